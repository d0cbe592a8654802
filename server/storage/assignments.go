package storage

// Assignments keeps assignments of shoppers to stores and checklists.
type Assignments interface {
}
