package pglaunch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CreateDatabase creates the database name, as a copy of template if that is
// not "" (the template must have no other connections open).
func (s *Server) CreateDatabase(ctx context.Context, name, template string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err := s.exec(ctx, sql); err != nil {
		return fmt.Errorf("pglaunch: create database %q: %w", name, err)
	}
	return nil
}

// DropDatabase drops the database name, ending any connections to it. It is
// not an error if the database does not exist.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	sql := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	if err := s.exec(ctx, sql); err != nil {
		return fmt.Errorf("pglaunch: drop database %q: %w", name, err)
	}
	return nil
}

// exec runs one statement as the superuser in the postgres database.
func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := s.connectSocket(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// connectSocket connects as the superuser over the Unix socket, where the
// cluster trusts local connections: no password hashing on each connect.
func (s *Server) connectSocket(ctx context.Context) (*pgx.Conn, error) {
	// Every key is given, so that no PG* variable can point it elsewhere.
	quote := func(v string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'" }
	return pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable connect_timeout=5",
		quote(s.socketDir), s.port, superuser))
}

// waitReady returns once postgres accepts connections over the socket. It
// returns at once if postgres exits or refuses the superuser.
func (s *Server) waitReady(ctx context.Context) error {
	backoff := 5 * time.Millisecond
	for {
		conn, err := s.connectSocket(ctx)
		if err == nil {
			return conn.Close(ctx)
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28") {
			return fmt.Errorf("pglaunch: postgres on %s refuses the superuser %s (was the cluster made by pglaunch?): %w", s.dataDir, superuser, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-s.proc.done:
			t.Stop()
			return s.proc.exitError()
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("pglaunch: postgres on %s not ready: %w (last attempt: %v)", s.dataDir, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// checkURL connects once the way callers will: over TCP, with the password.
func (s *Server) checkURL(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.URL(""))
	if err != nil {
		return fmt.Errorf("pglaunch: postgres on %s is up but refuses %s over TCP on port %d: %w", s.dataDir, superuser, s.port, err)
	}
	return conn.Close(ctx)
}

// setPassword gives the superuser the password s has.
func (s *Server) setPassword(ctx context.Context) error {
	quoted := "'" + strings.ReplaceAll(s.password, "'", "''") + "'"
	if err := s.exec(ctx, "ALTER ROLE "+superuser+" PASSWORD "+quoted); err != nil {
		return fmt.Errorf("pglaunch: set password: %w", err)
	}
	return nil
}
