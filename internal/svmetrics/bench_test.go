package svmetrics

import (
	"fmt"
	"testing"

	"daemontools/internal/status"
	"daemontools/internal/tai64"
)

// 500 services, each with a record of ours, read and written as /metrics
// would; bench/svmetrics measures the whole scrape beside a peer.
func BenchmarkScrape(b *testing.B) {
	dir := b.TempDir()
	now := tai64.Now()
	record := status.Status{Since: now, Pid: 7, Want: status.WantUp, State: status.Running, Exited: true}.Append(nil)
	for i := range 500 {
		makeService(b, dir, fmt.Sprintf("s%03d", i), record, true, false)
	}
	b.Run("look", func(b *testing.B) {
		for b.Loop() {
			look(dir)
		}
	})
	services, _ := look(dir)
	b.Run("metrics", func(b *testing.B) {
		for b.Loop() {
			appendMetrics(nil, services, now)
		}
	})
}
