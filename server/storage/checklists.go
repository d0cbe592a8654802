package storage

// Checklists keeps checklists and their versions; a published version never changes.
type Checklists interface {
}
