package app

// WaitingPushes is how many pushes wait for the writer, for the tests
// that stage a group commit.
func (a *App) WaitingPushes() int {
	a.pushes.mu.Lock()
	defer a.pushes.mu.Unlock()
	return len(a.pushes.waiting)
}
