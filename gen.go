// Package modelgraph is the root of the module. It holds no code: the
// command is cmd/modelgraph. This file regenerates the GraphQL server
// (internal/gql/generated) from schema/*.graphqls with gqlgen.yml; gqlgen
// resolves the config's paths from here.
package modelgraph

//go:generate go run github.com/99designs/gqlgen generate
