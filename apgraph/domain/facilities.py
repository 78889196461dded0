"""Facilities (hospitals, clinics) and their cost centers."""

from dataclasses import dataclass

from apgraph.domain.ids import CostCenterId, FacilityId


@dataclass(frozen=True, slots=True)
class Facility:
    id: FacilityId
    name: str
    region: str
    timezone: str  # IANA name; matters for due dates and display only


@dataclass(frozen=True, slots=True)
class CostCenter:
    id: CostCenterId
    facility_id: FacilityId
    code: str  # the GL segment, e.g. "4410"
    name: str
    active: bool
    approvers: tuple[str, ...]  # user ids allowed to approve exceptions charged here
