// Package fidelity holds the real-application fidelity suite of issue 12: scripts that install
// third-party applications offline (apps/NAME/app.sh), record a log-in/create/open flow through
// amp record and replay it as many users, and run.sh, which prints the table of outcomes. The
// package's only Go code is the CI slice, a test that runs the suite for Django's admin.
package fidelity
