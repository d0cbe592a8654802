package storage

// Users keeps user accounts, their roles, passwords and managed stores.
type Users interface {
}
