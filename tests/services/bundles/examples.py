"""A small, valid bundle in the CSV form, as a person would type it, to plant errors in."""

import json

POLICY = {
    "duplicate_window_days": 7,
    "categories": {
        "MEDICAL_SUPPLIES": {
            "quantity_percent": "2",
            "quantity_absolute": "10",
            "price_percent": "2",
            "price_absolute": "25.00",
            "receipt_required": True,
            "contract_price_unavailable": "flag",
        },
        "PHARMACY": {
            "quantity_percent": "0",
            "quantity_absolute": "0",
            "price_percent": "0",
            "price_absolute": "0.00",
            "receipt_required": True,
            "contract_price_unavailable": "block",
        },
    },
}

CSV_TEXT = {
    "facilities.csv": """\
id,name,region,timezone,erp,migration
FAC-0001,St. Mary's Medical Center,Northeast,America/New_York,legacy,legacy
FAC-0004,Lakeside Clinic,Midwest,America/Chicago,cloud,cloud
""",
    "cost_centers.csv": """\
id,facility_id,code,name,active,approvers
CC-0001-4410,FAC-0001,4410,Surgical Services,true,approver.fac-0001;approver2.fac-0001
CC-0004-7400,FAC-0004,7400,Facility Operations,false,
""",
    "suppliers.csv": (
        "id,legal_name,tax_id,status,payment_terms,tax_treatment,tax_rate,"
        "remit_to_bank_name,remit_to_routing_number,remit_to_account_number\n"
        'SUP-000001,"Juniper Medical Products, Inc.",99-5194349,ACTIVE,NET45,STANDARD,0.0825,'
        "Harborline Bank,234650750,317034236671\n"
        "SUP-000002,Crescent Pharma,12-3456789,ON_HOLD,NET30,EXEMPT,0,,,\n"
    ),
    "supplier_contacts.csv": """\
supplier_id,name,email,phone,role
SUP-000001,Sarah Lopez,sarah.lopez@juniper.example,+1 602 555 0117,collections
SUP-000002,Dan Ruiz,dan.ruiz@crescent.example,,sales
""",
    "supplier_vendor_links.csv": """\
supplier_id,system,vendor_key
SUP-000001,legacy,V70001
SUP-000001,cloud,C70001
""",
    "purchase_orders.csv": """\
id,supplier_id,facility_id,cost_center_id,status,currency,ordered_on
PO-2026-000001,SUP-000001,FAC-0001,CC-0001-4410,OPEN,USD,2026-01-05
PO-2026-000002,SUP-000002,FAC-0004,CC-0004-7400,PARTIALLY_RECEIVED,USD,2026-01-06
""",
    "purchase_order_lines.csv": """\
purchase_order_id,line_no,item_id,description,category,quantity,unit_of_measure,unit_price,currency
PO-2026-000001,1,ITM-MS-29772,"Polyglactin 910 suture, 3-0",MEDICAL_SUPPLIES,8,BX,101.71,USD
PO-2026-000001,2,ITM-MS-10001,Exam gloves,MEDICAL_SUPPLIES,12.5,BX,9.80,USD
PO-2026-000002,1,ITM-RX-85642,Enoxaparin 40 mg,PHARMACY,96,EA,2.8074,USD
""",
    "goods_receipts.csv": """\
id,purchase_order_id,line_no,quantity,received_at
GR-00000001,PO-2026-000001,1,8,2026-01-10T13:17:45Z
GR-00000002,PO-2026-000002,1,40,2026-01-11T09:00:00-05:00
""",
    "contract_prices.csv": """\
id,supplier_id,item_id,unit_price,currency,valid_from,valid_to
CT-000001,SUP-000002,ITM-RX-85642,2.8074,USD,2025-11-12,2026-11-11
""",
    "policy.json": json.dumps(POLICY, indent=2),
}


def csv_files(**changes: str) -> dict[str, bytes]:
    """The example's files, with `changes` (file stem → its new text) applied."""
    texts = dict(CSV_TEXT)
    for stem, text in changes.items():
        name = "policy.json" if stem == "policy" else f"{stem}.csv"
        texts[name] = text
    return {name: text.encode("utf-8") for name, text in texts.items()}
