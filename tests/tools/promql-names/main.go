// promql-names parses PromQL expressions with Prometheus' own parser and
// prints the metric names each one selects, so that a test can check that
// dashboards and alerts name only metrics that exist.
//
// Input: a JSON array of {"where": "...", "expr": "..."} on stdin.
// Output: a JSON array of {"where", "expr", "metrics": [...], "error"}; the exit
// status is 1 when any expression does not parse.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type item struct {
	Where   string   `json:"where"`
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
	Error   string   `json:"error,omitempty"`
}

func names(expr parser.Expr) []string {
	seen := map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		// A selector without a fixed name ({job="x"}, {__name__=~"..."}) cannot
		// be checked: report it so the test refuses it.
		if name == "" {
			name = "<no fixed metric name: " + vs.String() + ">"
		}
		seen[name] = true
		return nil
	})
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func main() {
	var items []item
	if err := json.NewDecoder(os.Stdin).Decode(&items); err != nil {
		fmt.Fprintln(os.Stderr, "promql-names: reading stdin:", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	failed := false
	for i := range items {
		expr, err := p.ParseExpr(items[i].Expr)
		if err != nil {
			items[i].Error = err.Error()
			failed = true
			continue
		}
		items[i].Metrics = names(expr)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(items); err != nil {
		fmt.Fprintln(os.Stderr, "promql-names:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}
