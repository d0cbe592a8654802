package storage

// BasePay keeps employees' base pay by month.
type BasePay interface {
}
