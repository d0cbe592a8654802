package storage

// Photos keeps the photo evidence of visits and which bytes are verified.
type Photos interface {
}
