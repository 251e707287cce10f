package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// action runs a command with its positional arguments.
type action func(a *app, args []string) error

// command is a node of cairnctl's command tree: a group with subcommands, or
// a leaf whose setup registers its flags and returns what it runs.
type command struct {
	name    string
	summary string
	args    string // positional arguments, for the usage line
	example string
	setup   func(fs *flag.FlagSet) action
	subs    []*command
}

func (c *command) find(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// root returns the whole command tree.
func root() *command {
	return &command{
		name:    "cairnctl",
		summary: "cairnctl is the command-line client of Cairn's GraphQL API.",
		example: `  cairnctl signin --email alice@customer-a.example --password cairn-demo
  cairnctl instance create --resource r-abc123 --body '{
    "cloud_provider": "aws",
    "region": "us-east-1",
    "requestParams": {"mysqlDatabase": "test", "mysqlUser": "test", "mysqlPassword": "strongpassword"}
  }'
  cairnctl instance list
  cairnctl instance describe instance-um60g2esx -o json
  cairnctl instance delete instance-um60g2esx --wait`,
		subs: []*command{
			signinCommand(), signoutCommand(), whoamiCommand(),
			instanceCommand(),
			catalogCommand("service"), catalogCommand("environment"), catalogCommand("model"), catalogCommand("tier"), catalogCommand("resource"),
			subscriptionCommand(),
			tenantCommand(), userCommand(), apikeyCommand(), operationsCommand(),
			completionCommand(),
		},
	}
}

// printHelp writes the help of cmd, reached as path.
func printHelp(w io.Writer, cmd *command, path string) {
	if cmd.summary != "" {
		fmt.Fprintf(w, "%s\n\n", cmd.summary)
	}
	fmt.Fprintln(w, "Usage:")
	if cmd.setup == nil {
		if path == "cairnctl" {
			fmt.Fprintf(w, "  cairnctl [global flags] <command> [<subcommand>] [flags] [arguments]\n\nCommands:\n")
		} else {
			fmt.Fprintf(w, "  %s <command> [flags] [arguments]\n\nCommands:\n", path)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range cmd.subs {
			fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
		}
		tw.Flush()
	} else {
		fmt.Fprintf(w, "  %s [flags]", path)
		if cmd.args != "" {
			fmt.Fprintf(w, " %s", cmd.args)
		}
		fmt.Fprintln(w)
		own := newFlagSet(path)
		cmd.setup(own)
		if hasFlags(own) {
			fmt.Fprintf(w, "\nFlags:\n")
			printFlags(w, own)
		}
	}
	var g globals
	g.timeout, g.output = 30e9, "table"
	gfs := newFlagSet(path)
	g.register(gfs)
	fmt.Fprintf(w, "\nGlobal flags (each also read from its CAIRN_* variable; a flag wins):\n")
	printFlags(w, gfs)
	if cmd.example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", cmd.example)
	}
	if cmd.setup == nil {
		fmt.Fprintf(w, "\nRun '%s <command> --help' for the flags and examples of a command.\n", path)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// printFlags lists flags GNU style (--name), one line each.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		name, usage := flag.UnquoteUsage(f)
		arg := dash + f.Name
		if name != "" {
			arg += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" && !strings.Contains(usage, "default") {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", arg, usage)
	})
	tw.Flush()
}

// leafPaths returns every leaf command's path below cmd, with the command.
func leafPaths(cmd *command, prefix string) map[string]*command {
	out := map[string]*command{}
	for _, s := range cmd.subs {
		p := strings.TrimSpace(prefix + " " + s.name)
		if s.setup != nil {
			out[p] = s
		}
		for k, v := range leafPaths(s, p) {
			out[k] = v
		}
	}
	return out
}
