package storage

// Devices keeps each device's applied sequence number and the results of its mutations, for replays.
type Devices interface {
}
