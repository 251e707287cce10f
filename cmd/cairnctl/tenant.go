package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

func signinCommand() *command {
	return &command{
		name: "signin", summary: "Sign in with email and password; stores the token for later commands",
		example: `  cairnctl signin --email alice@customer-a.example --password cairn-demo
  cairnctl signin --url https://cairn.example.com --email alice@customer-a.example   # prompts for the password
  echo "$PASSWORD" | cairnctl signin --email alice@customer-a.example --password-stdin
  cairnctl signin --email alice@customer-a.example --password cairn-demo -o json    # prints the token too

The token is stored with the URL in credentials.json (mode 0600) under
$CAIRN_CONFIG_DIR, or cairn/ in your config directory (~/.config/cairn).`,
		setup: func(fs *flag.FlagSet) action {
			email := fs.String("email", "", "your email")
			fs.StringVar(email, "username", "", "same as --email")
			password := fs.String("password", "", "your password (visible to other users of the machine; prefer the prompt or --password-stdin)")
			fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
			return func(a *app, args []string) error {
				if len(args) > 0 {
					return usagef("signin takes no arguments, got %q", args[0])
				}
				if *email == "" {
					return usagef("missing --email")
				}
				pw := *password
				if pw == "" {
					var err error
					if pw, err = a.readPassword(!*fromStdin); err != nil {
						return err
					}
				}
				c, err := a.client(false)
				if err != nil {
					return err
				}
				c.token = "" // a stale token must not ride along
				var data struct {
					SignIn struct {
						Token     string
						ExpiresAt time.Time
						User      map[string]any
					}
				}
				q := `mutation SignIn($input: SignInInput!) { signIn(input: $input) { token expiresAt user { id email name tenantId } } }`
				if err := c.do(a.ctx, q, map[string]any{"input": map[string]any{"email": *email, "password": pw}}, &data); err != nil {
					return err
				}
				s := data.SignIn
				path, err := saveCredentials(a.configDir, &credentials{URL: a.baseURL(), Token: s.Token, Email: *email, ExpiresAt: s.ExpiresAt})
				if err != nil {
					return fmt.Errorf("signed in, but could not store the token: %w", err)
				}
				if a.g.output == "table" {
					// The tenant's name needs the new token: ask as the new user.
					c.token = s.Token
					var who struct{ Viewer map[string]any }
					_ = c.do(a.ctx, `{ viewer { tenant { name } } }`, nil, &who)
					fmt.Fprintf(a.stdout, "Signed in to %s as %s (%s). The token, valid until %s, is stored in %s.\n",
						a.baseURL(), *email, cell(lookup(who.Viewer, "tenant.name")), s.ExpiresAt.Local().Format(time.RFC3339), path)
					return nil
				}
				return a.emit(map[string]any{"token": s.Token, "expiresAt": s.ExpiresAt.Format(time.RFC3339), "user": s.User, "url": a.baseURL(), "credentialsFile": path}, nil)
			}
		},
	}
}

// readPassword reads a password: after a prompt with echo off when stdin is
// a terminal and prompt is set, else the first line of stdin.
func (a *app) readPassword(prompt bool) (string, error) {
	f, isFile := a.stdin.(*os.File)
	tty := false
	if isFile {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	if tty && prompt {
		fmt.Fprint(a.stderr, "Password: ")
		if stty(f, "-echo") == nil {
			defer func() {
				_ = stty(f, "echo")
				fmt.Fprintln(a.stderr)
			}()
		}
	} else if tty {
		return "", usagef("--password-stdin needs the password piped in, not a terminal")
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", usagef("no password: pass --password, --password-stdin, or type it at the prompt")
		}
		return "", usagef("empty password")
	}
	return line, nil
}

// stty sets a terminal mode; echo off keeps the password off the screen.
func stty(tty *os.File, mode string) error {
	cmd := exec.Command("stty", mode)
	cmd.Stdin = tty
	return cmd.Run()
}

func signoutCommand() *command {
	return &command{
		name: "signout", summary: "Forget the stored token",
		example: "  cairnctl signout",
		setup: func(fs *flag.FlagSet) action {
			return func(a *app, args []string) error {
				removed, err := removeCredentials(a.configDir)
				if err != nil {
					return err
				}
				if removed {
					fmt.Fprintln(a.stdout, "Signed out; the stored token is deleted.")
				} else {
					fmt.Fprintln(a.stdout, "No stored token.")
				}
				return nil
			}
		},
	}
}

func whoamiCommand() *command {
	return &command{
		name: "whoami", summary: "Show who the token signs you in as, and your roles",
		example: "  cairnctl whoami\n  cairnctl whoami -o json",
		setup: func(fs *flag.FlagSet) action {
			return func(a *app, args []string) error {
				var data struct{ Viewer map[string]any }
				q := `{ viewer { user { id email name } tenant { id name kind } roleBindings { tenantId role } } }`
				if err := a.do(q, nil, &data); err != nil {
					return err
				}
				if data.Viewer == nil {
					return &apiError{Code: "UNAUTHENTICATED", Message: "the token signs nobody in; run 'cairnctl signin'"}
				}
				return a.emit(data.Viewer, nil)
			}
		},
	}
}

var tenantKind = kind{
	name: "tenant", typeName: "Tenant", listField: "tenants", filterType: "TenantFilter",
	fields:     `id name kind state parentId parent { name } createdAt updatedAt version`,
	listFields: `id name kind state parent { name } createdAt`,
	columns:    []column{{"ID", "id"}, {"NAME", "name"}, {"KIND", "kind"}, {"STATE", "state"}, {"PARENT", "parent.name"}, {"CREATED", "createdAt"}},
}

func tenantCommand() *command {
	ld := listDescribe(tenantKind,
		"  cairnctl tenant list\n  cairnctl tenant list --kind CUSTOMER --state ENABLED",
		"  cairnctl tenant describe org-abc123",
		func(fs *flag.FlagSet) func() (map[string]any, error) {
			k := fs.String("kind", "", "only PARTNER, CUSTOMER or UNIT (or ROOT)")
			state := fs.String("state", "", "only ENABLED or DISABLED")
			parent := fs.String("parent", "", "only children of this tenant (org-…)")
			name := fs.String("name", "", "only those whose name contains this")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "kind", enum(*k))
				setIf(f, "state", enum(*state))
				setIf(f, "parentId", *parent)
				setIf(f, "nameContains", *name)
				return f, nil
			}
		})
	create := &command{
		name: "create", summary: "Create a child tenant under one you administer",
		example: "  cairnctl tenant create --parent org-abc123 --name 'Customer C' --kind CUSTOMER",
		setup: func(fs *flag.FlagSet) action {
			parent := fs.String("parent", "", "the parent tenant (org-…)")
			name := fs.String("name", "", "display name")
			k := fs.String("kind", "CUSTOMER", "PARTNER, CUSTOMER or UNIT")
			return func(a *app, args []string) error {
				if len(args) > 0 || *parent == "" || *name == "" {
					return usagef("give --parent and --name (and no arguments)")
				}
				in := map[string]any{"parentId": *parent, "name": *name, "kind": strings.ToUpper(*k)}
				var data struct {
					CreateTenant struct{ Tenant map[string]any }
				}
				q := `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { ` + tenantKind.fields + ` } } }`
				if err := a.do(q, map[string]any{"input": in}, &data); err != nil {
					return err
				}
				return a.emit(data.CreateTenant.Tenant, nil)
			}
		},
	}
	return &command{name: "tenant", summary: "List, describe and create tenants", subs: []*command{create, ld[0], ld[1]}}
}

var userKind = kind{
	name: "user", typeName: "User", listField: "users", filterType: "UserFilter",
	fields:     `id email name tenantId tenant { name } activated disabled roleBindings(first: 50) { nodes { role tenantId } } createdAt updatedAt version`,
	listFields: `id email name tenant { name } activated disabled`,
	columns:    []column{{"ID", "id"}, {"EMAIL", "email"}, {"NAME", "name"}, {"TENANT", "tenant.name"}, {"ACTIVATED", "activated"}, {"DISABLED", "disabled"}},
}

func userCommand() *command {
	ld := listDescribe(userKind,
		"  cairnctl user list\n  cairnctl user list --tenant org-abc123 --email @customer-a.example",
		"  cairnctl user describe user-abc123 -o yaml",
		func(fs *flag.FlagSet) func() (map[string]any, error) {
			tenant := fs.String("tenant", "", "only users of this home tenant (org-…)")
			email := fs.String("email", "", "only those whose email contains this")
			return func() (map[string]any, error) {
				f := map[string]any{}
				setIf(f, "tenantId", *tenant)
				setIf(f, "emailContains", *email)
				return f, nil
			}
		})
	create := &command{
		name: "create", summary: "Create (invite) a user in a tenant",
		example: `  cairnctl user create --tenant org-abc123 --email carol@customer-a.example --name 'Carol' --role EDITOR
  echo "$PASSWORD" | cairnctl user create --tenant org-abc123 --email dan@customer-a.example --name Dan --password-stdin

Without a password the user is created unactivated, until one is set.`,
		setup: func(fs *flag.FlagSet) action {
			tenant := fs.String("tenant", "", "the home tenant (org-…)")
			email := fs.String("email", "", "sign-in email")
			name := fs.String("name", "", "display name")
			role := fs.String("role", "", "a role to grant on the home tenant: ADMIN, EDITOR or READER")
			fromStdin := fs.Bool("password-stdin", false, "read an initial password from the first line of stdin")
			return func(a *app, args []string) error {
				if len(args) > 0 || *tenant == "" || *email == "" || *name == "" {
					return usagef("give --tenant, --email and --name (and no arguments)")
				}
				in := map[string]any{"tenantId": *tenant, "email": *email, "name": *name}
				setIf(in, "role", strings.ToUpper(*role))
				if *fromStdin {
					pw, err := a.readPassword(false)
					if err != nil {
						return err
					}
					in["password"] = pw
				}
				var data struct{ CreateUser struct{ User map[string]any } }
				q := `mutation($input: CreateUserInput!) { createUser(input: $input) { user { ` + userKind.fields + ` } } }`
				if err := a.do(q, map[string]any{"input": in}, &data); err != nil {
					return err
				}
				return a.emit(data.CreateUser.User, nil)
			}
		},
	}
	return &command{name: "user", summary: "List, describe and create users", subs: []*command{create, ld[0], ld[1]}}
}
