// Command dashgen writes the chargewatch dashboards' JSON into dashboards/json
// (run by `go generate ./dashboards`, from the dashboards directory, or with
// -dir from anywhere).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chargewatch/chargewatch/dashboards"
)

func main() { os.Exit(run()) }

func run() int {
	dir := flag.String("dir", dashboards.JSONDir, "directory to write the dashboard JSON into")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		return 1
	}
	for _, b := range dashboards.All() {
		js, err := b.Render()
		if err != nil {
			fmt.Fprintln(os.Stderr, "dashgen:", err)
			return 1
		}
		path := filepath.Join(*dir, b.File)
		if err := os.WriteFile(path, js, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "dashgen:", err)
			return 1
		}
		fmt.Println("wrote", path)
	}
	return 0
}
