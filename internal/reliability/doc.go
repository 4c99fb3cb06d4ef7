// Package reliability holds the crash-consistency and load harnesses that
// drive a real `modelgraph serve` process: pushes from several clients,
// SIGKILL at random moments, restart, and checks that every acknowledged
// document is present and complete and nothing half-written is visible.
// Short modes run in `make test`; long modes in `make soak` (-rounds, -load).
package reliability
