package storage

// AuditReports answers the audit workbook's and the report index's queries.
type AuditReports interface {
}
