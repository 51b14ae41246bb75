// Command sbctl keeps an organisation's connected social-media profiles
// authenticated. See README.md.
package main

import (
	"os"

	"github.com/sbctl/sbctl/cmd"
)

func main() { os.Exit(cmd.Main()) }
