"""The on-prem legacy ERP: SOAP 1.1 document/literal over HTTP, with the WSDL at `GET /soap?wsdl`.

Every fault is a SOAP fault (HTTP 500): `soap:Client` for what the caller sent (unknown or
blocked vendor, a duplicate invoice, XML that does not parse), `soap:Server` otherwise.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, SubElement

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.bundle import MasterDataBundle
from apgraph.domain.suppliers import Supplier
from apgraph.domain.systems import ExternalSystem
from apgraph.simulators import erp_book
from apgraph.simulators.erp_book import (
    Document,
    Draft,
    ErpBook,
    OrderDraft,
    OrderLine,
    Payment,
    PaymentOrder,
    Refusal,
)
from apgraph.simulators.faults import FaultInjection, FaultPlan, control_routes

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:legacy-erp:accounts-payable:v3"
XML = "text/xml; charset=utf-8"


def vendor_key(supplier: Supplier) -> str:
    """V + five digits: SUP-000123 is vendor V10123 in this ERP."""
    return f"V{10_000 + int(supplier.id.removeprefix('SUP-'))}"


def tax_number(raw: str) -> str:
    """This ERP keeps tax numbers without separators."""
    return raw.replace("-", "")


@dataclass(slots=True)
class LegacyErpSimulator:
    book: ErpBook
    plan: FaultPlan
    app: ASGIApp

    def load(self, bundle: MasterDataBundle) -> None:
        """The imported suppliers become vendors of this ERP (see ErpBook.add_vendors)."""
        self.book.add_vendors(
            bundle.suppliers,
            system=ExternalSystem.LEGACY_ERP,
            vendor_key=vendor_key,
            tax_id=tax_number,
        )


def create(network: DemoNetwork) -> LegacyErpSimulator:
    book = ErpBook.seeded(network, prefix="LEG", vendor_key=vendor_key, tax_id=tax_number)
    plan = FaultPlan()

    async def soap(request: Request) -> Response:
        if request.method == "GET":
            return Response(_wsdl(str(request.url.replace(query=""))), media_type=XML)
        try:
            body = ElementTree.fromstring(await request.body()).find(f"{{{SOAP_ENV}}}Body")
        except ElementTree.ParseError as error:
            return _fault("Client", f"request is not XML: {error}")
        call = None if body is None or len(body) == 0 else body[0]
        if call is None:
            return _fault("Client", "empty SOAP body")
        operation = call.tag.removeprefix(f"{{{NS}}}")
        handler = _OPERATIONS.get(operation)
        if handler is None:
            return _fault("Client", f"unknown operation {call.tag}")
        try:
            return _envelope(handler(book, call))
        except Refusal as refusal:
            return _fault("Client", str(refusal), reason=refusal.reason)
        except (KeyError, ValueError, InvalidOperation) as error:
            return _fault("Client", f"invalid {operation} request: {error!r}")

    app = Starlette(
        routes=[
            Route("/soap", soap, methods=["GET", "POST"]),
            *control_routes(plan),
            *erp_book.control_routes(book),
        ]
    )
    return LegacyErpSimulator(book=book, plan=plan, app=FaultInjection(app, plan))


def _text(parent: Element, name: str) -> str:
    found = parent.find(f"{{{NS}}}{name}")
    if found is None or found.text is None:
        raise KeyError(name)
    return found.text.strip()


def _add(parent: Element, name: str, text: str | None = None) -> Element:
    child = SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        child.text = text
    return child


def _post(book: ErpBook, call: Element) -> Element:
    invoice = call.find(f"{{{NS}}}Invoice")
    if invoice is None:
        raise KeyError("Invoice")
    po = invoice.find(f"{{{NS}}}PoNumber")
    draft = Draft(
        vendor_key=_text(invoice, "VendorNo"),
        external_ref=_text(invoice, "ExtRef"),
        vendor_invoice_no=_text(invoice, "VendorInvoiceNo"),
        currency=_text(invoice, "Currency"),
        gross=Decimal(_text(invoice, "GrossAmount")),
        tax=Decimal(_text(invoice, "TaxAmount")),
        document_date=date.fromisoformat(_text(invoice, "DocDate")),
        purchase_order=po.text if po is not None else None,
        cost_object=_text(invoice, "CostObject"),
    )
    document, _ = book.post(draft, token=_text(call, "IdempotencyToken"))
    response = Element(f"{{{NS}}}PostVendorInvoiceResponse")
    _document(response, document, book)
    return response


def _find(book: ErpBook, call: Element) -> Element:
    response = Element(f"{{{NS}}}FindPostingByTokenResponse")
    document = book.by_token(_text(call, "IdempotencyToken"))
    if document is not None:
        _document(response, document, book)
    return response


def _payment_status(book: ErpBook, call: Element) -> Element:
    response = Element(f"{{{NS}}}GetPaymentStatusResponse")
    for payment in book.payments_of(int(_text(call, "DocNo"))):
        _payment(response, payment, book)
    return response


def _list_payments(book: ErpBook, call: Element) -> Element:
    response = Element(f"{{{NS}}}ListPaymentsResponse")
    for payment in book.payments_since(date.fromisoformat(_text(call, "FromDate"))):
        _payment(response, payment, book)
    return response


def _release_payment(book: ErpBook, call: Element) -> Element:
    order = call.find(f"{{{NS}}}PaymentOrder")
    if order is None:
        raise KeyError("PaymentOrder")
    draft = OrderDraft(
        vendor_key=_text(order, "VendorNo"),
        external_ref=_text(order, "ExtRef"),
        currency=_text(order, "Currency"),
        amount=Decimal(_text(order, "Amount")),
        value_date=date.fromisoformat(_text(order, "ValueDate")),
        method=_text(order, "PayMethod"),
        lines=tuple(
            OrderLine(
                document_number=int(_text(item, "DocNo")),
                amount=Decimal(_text(item, "Amount")),
                discount=Decimal(_text(item, "CashDiscount")),
            )
            for item in order.findall(f"{{{NS}}}Item")
        ),
    )
    placed, _ = book.order_payment(draft, token=_text(call, "IdempotencyToken"))
    response = Element(f"{{{NS}}}ReleasePaymentResponse")
    _order(response, placed)
    return response


def _find_payment_order(book: ErpBook, call: Element) -> Element:
    response = Element(f"{{{NS}}}FindPaymentOrderByTokenResponse")
    found = book.order_by_token(_text(call, "IdempotencyToken"))
    if found is not None:
        _order(response, found)
    return response


def _payment_order_status(book: ErpBook, call: Element) -> Element:
    response = Element(f"{{{NS}}}GetPaymentOrderStatusResponse")
    found = book.order_status(int(_text(call, "OrderNo")))
    if found is not None:
        _order(response, found)
    return response


def _order(parent: Element, order: PaymentOrder) -> None:
    element = _add(parent, "PaymentOrder")
    _add(element, "OrderNo", str(order.number))
    _add(element, "ExtRef", order.draft.external_ref)
    _add(element, "Amount", format(order.draft.amount, "f"))
    _add(element, "Currency", order.draft.currency)
    _add(element, "State", {"PENDING": "P", "PAID": "C", "REJECTED": "R"}[order.status])
    _add(element, "ReturnReason", order.reason or "")
    _add(element, "ClearingDate", order.paid_on.isoformat() if order.paid_on else "")


def _list_vendors(book: ErpBook, _: Element) -> Element:
    response = Element(f"{{{NS}}}ListVendorsResponse")
    for vendor in book.vendors.values():
        element = _add(response, "Vendor")
        _add(element, "VendorNo", vendor.key)
        _add(element, "TaxNo", vendor.tax_id)
        _add(element, "Name1", vendor.name)
        _add(element, "PostingBlock", "X" if vendor.blocked else "")
    return response


def _document(parent: Element, document: Document, book: ErpBook) -> None:
    element = _add(parent, "Document")
    _add(element, "DocNo", str(document.number))
    _add(element, "ExtRef", document.external_ref)
    _add(element, "VendorNo", document.vendor_key)
    _add(element, "VendorInvoiceNo", document.vendor_invoice_no)
    _add(element, "Currency", document.currency)
    _add(element, "GrossAmount", format(document.gross, "f"))
    _add(element, "TaxAmount", format(document.tax, "f"))
    _add(element, "DueDate", document.due_date.isoformat())
    _add(element, "PostingDate", document.posted_on.isoformat())


def _payment(parent: Element, payment: Payment, book: ErpBook) -> None:
    element = _add(parent, "Payment")
    _add(element, "PaymentRef", payment.reference)
    _add(element, "DocNo", str(payment.document_number))
    _add(element, "ExtRef", book.documents[payment.document_number].external_ref)
    _add(element, "Currency", payment.currency)
    _add(element, "Amount", format(payment.amount, "f"))
    _add(element, "ValueDate", payment.value_date.isoformat())


_OPERATIONS = {
    "PostVendorInvoice": _post,
    "FindPostingByToken": _find,
    "GetPaymentStatus": _payment_status,
    "ListPayments": _list_payments,
    "ListVendors": _list_vendors,
    "ReleasePayment": _release_payment,
    "FindPaymentOrderByToken": _find_payment_order,
    "GetPaymentOrderStatus": _payment_order_status,
}


def _envelope(payload: Element, status: int = 200) -> Response:
    envelope = Element(f"{{{SOAP_ENV}}}Envelope")
    SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
    content = ElementTree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return Response(content, status_code=status, media_type=XML)


def _fault(code: str, message: str, *, reason: str | None = None) -> Response:
    fault = Element(f"{{{SOAP_ENV}}}Fault")
    SubElement(fault, "faultcode").text = f"soap:{code}"
    SubElement(fault, "faultstring").text = message
    if reason is not None:
        detail = SubElement(fault, "detail")
        SubElement(detail, f"{{{NS}}}Reason").text = reason
    return _envelope(fault, status=500)


def _wsdl(location: str) -> str:
    operations = "".join(
        f"""
    <wsdl:operation name="{name}">
      <wsdl:input message="tns:{name}Request"/>
      <wsdl:output message="tns:{name}Response"/>
    </wsdl:operation>"""
        for name in _OPERATIONS
    )
    bindings = "".join(
        f"""
    <wsdl:operation name="{name}">
      <soap:operation soapAction="{NS}/{name}"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>"""
        for name in _OPERATIONS
    )
    messages = "".join(
        f"""
  <wsdl:message name="{name}{part}">
    <wsdl:part name="body" element="tns:{name}{"" if part == "Request" else part}"/>
  </wsdl:message>"""
        for name in _OPERATIONS
        for part in ("Request", "Response")
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="{NS}" targetNamespace="{NS}" name="AccountsPayable">
  <wsdl:types>
    <xs:schema targetNamespace="{NS}" elementFormDefault="qualified">
{_SCHEMA}
    </xs:schema>
  </wsdl:types>{messages}
  <wsdl:portType name="AccountsPayablePort">{operations}
  </wsdl:portType>
  <wsdl:binding name="AccountsPayableBinding" type="tns:AccountsPayablePort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>{bindings}
  </wsdl:binding>
  <wsdl:service name="AccountsPayableService">
    <wsdl:port name="AccountsPayablePort" binding="tns:AccountsPayableBinding">
      <soap:address location="{location}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


_SCHEMA = """
      <xs:simpleType name="Amount"><xs:restriction base="xs:decimal"/></xs:simpleType>
      <xs:complexType name="InvoiceIn"><xs:sequence>
        <xs:element name="VendorNo" type="xs:string"/>
        <xs:element name="ExtRef" type="xs:string"/>
        <xs:element name="VendorInvoiceNo" type="xs:string"/>
        <xs:element name="DocDate" type="xs:date"/>
        <xs:element name="Currency" type="xs:string"/>
        <xs:element name="GrossAmount" type="tns:Amount"/>
        <xs:element name="TaxAmount" type="tns:Amount"/>
        <xs:element name="PoNumber" type="xs:string" minOccurs="0"/>
        <xs:element name="CostObject" type="xs:string"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="Document"><xs:sequence>
        <xs:element name="DocNo" type="xs:string"/>
        <xs:element name="ExtRef" type="xs:string"/>
        <xs:element name="VendorNo" type="xs:string"/>
        <xs:element name="VendorInvoiceNo" type="xs:string"/>
        <xs:element name="Currency" type="xs:string"/>
        <xs:element name="GrossAmount" type="tns:Amount"/>
        <xs:element name="TaxAmount" type="tns:Amount"/>
        <xs:element name="DueDate" type="xs:date"/>
        <xs:element name="PostingDate" type="xs:date"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="Payment"><xs:sequence>
        <xs:element name="PaymentRef" type="xs:string"/>
        <xs:element name="DocNo" type="xs:string"/>
        <xs:element name="ExtRef" type="xs:string"/>
        <xs:element name="Currency" type="xs:string"/>
        <xs:element name="Amount" type="tns:Amount"/>
        <xs:element name="ValueDate" type="xs:date"/>
      </xs:sequence></xs:complexType>
      <xs:complexType name="Vendor"><xs:sequence>
        <xs:element name="VendorNo" type="xs:string"/>
        <xs:element name="TaxNo" type="xs:string"/>
        <xs:element name="Name1" type="xs:string"/>
        <xs:element name="PostingBlock" type="xs:string"/>
      </xs:sequence></xs:complexType>
      <xs:element name="PostVendorInvoice"><xs:complexType><xs:sequence>
        <xs:element name="IdempotencyToken" type="xs:string"/>
        <xs:element name="Invoice" type="tns:InvoiceIn"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="PostVendorInvoiceResponse"><xs:complexType><xs:sequence>
        <xs:element name="Document" type="tns:Document"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="FindPostingByToken"><xs:complexType><xs:sequence>
        <xs:element name="IdempotencyToken" type="xs:string"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="FindPostingByTokenResponse"><xs:complexType><xs:sequence>
        <xs:element name="Document" type="tns:Document" minOccurs="0"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="GetPaymentStatus"><xs:complexType><xs:sequence>
        <xs:element name="DocNo" type="xs:string"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="GetPaymentStatusResponse"><xs:complexType><xs:sequence>
        <xs:element name="Payment" type="tns:Payment" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="ListPayments"><xs:complexType><xs:sequence>
        <xs:element name="FromDate" type="xs:date"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="ListPaymentsResponse"><xs:complexType><xs:sequence>
        <xs:element name="Payment" type="tns:Payment" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:complexType name="PaymentOrder"><xs:sequence>
        <xs:element name="OrderNo" type="xs:string"/>
        <xs:element name="ExtRef" type="xs:string"/>
        <xs:element name="Amount" type="tns:Amount"/>
        <xs:element name="Currency" type="xs:string"/>
        <xs:element name="State" type="xs:string"/>
        <xs:element name="ReturnReason" type="xs:string"/>
        <xs:element name="ClearingDate" type="xs:string"/>
      </xs:sequence></xs:complexType>
      <xs:element name="ReleasePayment"><xs:complexType><xs:sequence>
        <xs:element name="IdempotencyToken" type="xs:string"/>
        <xs:element name="PaymentOrder"><xs:complexType><xs:sequence>
          <xs:element name="VendorNo" type="xs:string"/>
          <xs:element name="ExtRef" type="xs:string"/>
          <xs:element name="Currency" type="xs:string"/>
          <xs:element name="Amount" type="tns:Amount"/>
          <xs:element name="ValueDate" type="xs:date"/>
          <xs:element name="PayMethod" type="xs:string"/>
          <xs:element name="Item" maxOccurs="unbounded"><xs:complexType><xs:sequence>
            <xs:element name="DocNo" type="xs:string"/>
            <xs:element name="Amount" type="tns:Amount"/>
            <xs:element name="CashDiscount" type="tns:Amount"/>
          </xs:sequence></xs:complexType></xs:element>
        </xs:sequence></xs:complexType></xs:element>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="ReleasePaymentResponse"><xs:complexType><xs:sequence>
        <xs:element name="PaymentOrder" type="tns:PaymentOrder"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="FindPaymentOrderByToken"><xs:complexType><xs:sequence>
        <xs:element name="IdempotencyToken" type="xs:string"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="FindPaymentOrderByTokenResponse"><xs:complexType><xs:sequence>
        <xs:element name="PaymentOrder" type="tns:PaymentOrder" minOccurs="0"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="GetPaymentOrderStatus"><xs:complexType><xs:sequence>
        <xs:element name="OrderNo" type="xs:string"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="GetPaymentOrderStatusResponse"><xs:complexType><xs:sequence>
        <xs:element name="PaymentOrder" type="tns:PaymentOrder" minOccurs="0"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="ListVendors"><xs:complexType><xs:sequence/></xs:complexType></xs:element>
      <xs:element name="ListVendorsResponse"><xs:complexType><xs:sequence>
        <xs:element name="Vendor" type="tns:Vendor" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence></xs:complexType></xs:element>"""
