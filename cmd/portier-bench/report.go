package main

import (
	"fmt"
	"io"
	"strings"
)

// printTable prints the results as an aligned table; with a base, each
// scenario and concurrency gets a base row, a new row and a ratio row
// (new/base) for req/s and the CPU and statement figures per request.
func printTable(w io.Writer, rows []*result, withBase bool) {
	header := []string{"scenario", "c", "bin", "req/s", "p50 ms", "p99 ms", "errors", "SQL/req",
		"srv CPU ms/req", "PG CPU ms/req", "srv µs/obj", "peak RSS MiB"}
	var table [][]string
	f := func(format string, v float64) string { return fmt.Sprintf(format, v) }
	opt := func(format string, v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf(format, *v)
	}
	line := func(r *result) []string {
		errs := fmt.Sprint(r.Errors)
		if r.WarmupErrors > 0 {
			errs += fmt.Sprintf(" (+%d warm-up)", r.WarmupErrors)
		}
		return []string{r.Scenario, fmt.Sprint(r.Concurrency), r.Binary, f("%.1f", r.ReqPerSec), f("%.2f", r.P50ms), f("%.2f", r.P99ms),
			errs, opt("%.1f", r.SQLPerReq), f("%.2f", r.ServerCPUmsPerReq), f("%.2f", r.PGCPUmsPerReq),
			opt("%.1f", r.ServerUsPerObject), f("%.0f", r.PeakRSSMiB)}
	}
	ratio := func(n, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", n/b)
	}
	optRatio := func(n, b *float64) string {
		if n == nil || b == nil {
			return ""
		}
		return ratio(*n, *b)
	}
	// Rows come per scenario and binary (base first), each at every
	// concurrency: pair them by scenario and concurrency.
	type key struct {
		scenario string
		c        int
	}
	base := map[key]*result{}
	var order []key
	news := map[key]*result{}
	for _, r := range rows {
		k := key{r.Scenario, r.Concurrency}
		if _, seen := base[k]; !seen {
			if _, seen := news[k]; !seen {
				order = append(order, k)
			}
		}
		if r.Binary == "base" {
			base[k] = r
		} else {
			news[k] = r
		}
	}
	for _, k := range order {
		b, n := base[k], news[k]
		if b != nil {
			table = append(table, line(b))
		}
		if n != nil {
			table = append(table, line(n))
		}
		if withBase && b != nil && n != nil {
			table = append(table, []string{"", "", "new/base", ratio(n.ReqPerSec, b.ReqPerSec), "", "", "",
				optRatio(n.SQLPerReq, b.SQLPerReq), ratio(n.ServerCPUmsPerReq, b.ServerCPUmsPerReq),
				ratio(n.PGCPUmsPerReq, b.PGCPUmsPerReq), optRatio(n.ServerUsPerObject, b.ServerUsPerObject), ""})
		}
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, row := range table {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	// The first three columns are labels (left-aligned), the rest numbers.
	pr := func(row []string) {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < 3 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	pr(header)
	for _, row := range table {
		pr(row)
	}
}
