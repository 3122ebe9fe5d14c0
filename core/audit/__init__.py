"""The audit trail: who changed what, when and why, hash-chained in the results database
(no Qt). See docs/station-admin.md, "Audit trail".

Public API::

    AuditTrail(db_path).record(user, role, action, target, old, new, reason) -> AuditEntry
    AuditTrail.submit(...) -> Future[AuditEntry] (same, in the trail's thread)
    AuditTrail.for_data_dir(data_dir), AuditTrail.entries(since=, until=, user=, action=, ...)
    query(db_path, ...), verify(db_path) -> VerifyReport, export_csv(db_path, out, ...)
    export_beside(db_path, results_csv, since, until): FILE.audit.csv beside a results export
    AuditEntry, AuditError, KNOWN_ACTIONS, REASON_REQUIRED, GENESIS
"""

from core.audit.chain import GENESIS, VerifyReport, verify
from core.audit.entry import KNOWN_ACTIONS, REASON_REQUIRED, AuditEntry, AuditError
from core.audit.export import audit_path_for, export_beside, export_csv
from core.audit.trail import AuditTrail, query

__all__ = ["GENESIS", "KNOWN_ACTIONS", "REASON_REQUIRED", "AuditEntry", "AuditError",
           "AuditTrail", "VerifyReport", "audit_path_for", "export_beside", "export_csv",
           "query", "verify"]
