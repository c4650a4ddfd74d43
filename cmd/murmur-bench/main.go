// Command murmur-bench runs murmur's performance scenarios and prints a
// table, or with --json an array of {"scenario","case","metric","value",
// "unit"} objects so that runs can be compared.
//
//	murmur-bench [--json] [--code-commits N] [scenario...]
//
// With no scenario it runs them all. Scenarios register themselves in
// scenarios.go; each measures one target of the design map.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result is one measured figure.
type Result struct {
	Scenario string  `json:"scenario"`
	Case     string  `json:"case"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
}

// scenario measures something and returns its figures.
type scenario struct {
	name string
	doc  string
	run  func() ([]Result, error)
}

var scenarios []scenario

func register(name, doc string, run func() ([]Result, error)) {
	scenarios = append(scenarios, scenario{name, doc, run})
}

func main() {
	// The scenarios run nodes on loopback; the murmur processes they start
	// inherit this and do not announce themselves on the host's network.
	if os.Getenv("MURMUR_LAN_DISCOVERY") == "" {
		_ = os.Setenv("MURMUR_LAN_DISCOVERY", "0")
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("murmur-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print results as a JSON array")
	list := fs.Bool("list", false, "list the scenarios and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	fs.IntVar(&codeCommits, "code-commits", codeCommits, "the number of `COMMITS` of the code scenario's generated repo")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: murmur-bench [--json] [--list] [--code-commits N] [scenario...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if codeCommits < 1 {
		fmt.Fprintf(stderr, "murmur-bench: --code-commits is %d; give the number of commits of the code scenario's repo, 1 or more\n", codeCommits)
		return 2
	}
	if *list {
		for _, s := range scenarios {
			fmt.Fprintf(stdout, "%-10s %s\n", s.name, s.doc)
		}
		return 0
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "murmur-bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "murmur-bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	chosen := scenarios
	if fs.NArg() > 0 {
		chosen = nil
		for _, name := range fs.Args() {
			i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
			if i < 0 {
				var names []string
				for _, s := range scenarios {
					names = append(names, s.name)
				}
				fmt.Fprintf(stderr, "murmur-bench: unknown scenario %q; choose from %s\n", name, strings.Join(names, ", "))
				return 2
			}
			chosen = append(chosen, scenarios[i])
		}
	}
	results := []Result{}
	failed := false
	for _, s := range chosen {
		rs, err := s.run()
		if err != nil {
			fmt.Fprintf(stderr, "murmur-bench: %s: %v\n", s.name, err)
			failed = true
			continue
		}
		results = append(results, rs...)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			fmt.Fprintln(stderr, "murmur-bench:", err)
			return 1
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SCENARIO\tCASE\tMETRIC\tVALUE\tUNIT")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Case, r.Metric, formatValue(r.Value), r.Unit)
		}
		tw.Flush()
	}
	if failed {
		return 1
	}
	return 0
}

func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.4f", v)
}
