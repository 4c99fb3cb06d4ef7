package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// Compatibility for the question commands (query, search, list,
// posture) until they move to the typed GraphQL client (internal/client,
// internal/cli): delete this file when nothing calls apiFlags.client.

// apiClient asks a server GraphQL operations.
type apiClient struct{ server serverGraphQL }

type serverGraphQL interface {
	GraphQL(ctx context.Context, op string, vars map[string]any) ([]byte, error)
}

func (a *apiFlags) client() (*apiClient, error) {
	s, err := a.server()
	if s == nil || err != nil {
		return nil, err
	}
	return &apiClient{server: s}, nil
}

func (c *apiClient) graphqlRaw(ctx context.Context, op string, vars map[string]any) ([]byte, error) {
	return c.server.GraphQL(ctx, op, vars)
}

// graphql runs an operation and decodes data[field] into out.
func (c *apiClient) graphql(ctx context.Context, op string, vars map[string]any, field string, out any) error {
	raw, err := c.graphqlRaw(ctx, op, vars)
	if err != nil {
		return err
	}
	var r struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("graphql answer: %w", err)
	}
	if len(r.Errors) > 0 {
		code, _ := r.Errors[0].Extensions["code"].(string)
		return fmt.Errorf("server: %s (%s)", r.Errors[0].Message, code)
	}
	return json.Unmarshal(r.Data[field], out)
}
