package main

import (
	"bytes"
	"math"
	"testing"
)

func TestPrintTable(t *testing.T) {
	rows := []row{
		{"built", map[string]float64{"ours": 2, "daemontools": 4, "runit": 30, "s6": 0}, nil},
		{"missing", map[string]float64{"daemontools": 1.25, "runit": math.NaN()}, map[string]string{"ours": "not built yet"}},
		{"ours zero", map[string]float64{"ours": 0, "daemontools": 12, "runit": 0, "s6": 0}, nil},
	}
	var b bytes.Buffer
	printTable(&b, rows)
	want := "| figure (lower is better) | ours | daemontools 0.76 | runit | s6 | daemontools ÷ ours | runit ÷ ours | s6 ÷ ours |\n" +
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n" +
		"| built | 2.0 | 4.0 | 30 | 0.0 | 2.00 | 15 | 0.00 |\n" +
		"| missing | not built yet | 1.2 | — | — |  |  |  |\n" +
		"| ours zero | 0.0 | 12 | 0.0 | 0.0 |  |  |  |\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
