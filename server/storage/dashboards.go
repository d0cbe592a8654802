package storage

// Dashboards answers the dashboards' aggregate queries.
type Dashboards interface {
}
