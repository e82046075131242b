package queue

// SyncedSizes returns, for each segment file, the bytes known to be on disk:
// what a power cut would leave of it.
func (q *Queue) SyncedSizes() map[string]int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := map[string]int64{}
	for _, s := range q.segs {
		m[s.path] = s.synced
	}
	return m
}

// FirstSegmentCount is the number of records in the oldest segment.
func (q *Queue) FirstSegmentCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int(q.segs[0].count)
}
