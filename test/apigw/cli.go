package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// defaultAuthorizerTTL is the TTL of an authorizer whose output has no
// authorizerResultTtlInSeconds: API Gateway's default of 300 s.
const defaultAuthorizerTTL = 300 * time.Second

// FromCLI builds a Config from the JSON output of
//
//	aws apigateway get-resources --rest-api-id ID --embed methods
//	aws apigateway get-authorizers --rest-api-id ID
//	aws apigateway get-gateway-responses --rest-api-id ID
//
// Empty input stands for "none". A method is Integration when its
// methodIntegration is AWS_PROXY; only customised gateway responses
// (defaultResponse false) are kept. The caller then fills in Integration,
// Authorizers[id].Invoke, RestAPIID, Stage and the rest.
func FromCLI(resources, authorizers, gatewayResponses []byte) (Config, error) {
	var cfg Config

	var res struct {
		Items []struct {
			ID              string `json:"id"`
			Path            string `json:"path"`
			ResourceMethods map[string]struct {
				AuthorizationType *string `json:"authorizationType"`
				AuthorizerID      string  `json:"authorizerId"`
				MethodIntegration *struct {
					Type string `json:"type"`
				} `json:"methodIntegration"`
			} `json:"resourceMethods"`
		} `json:"items"`
	}
	if err := decodeCLI(resources, &res); err != nil {
		return Config{}, fmt.Errorf("apigw: get-resources output: %w", err)
	}
	for _, it := range res.Items {
		r := Resource{Path: it.Path, ID: it.ID}
		if len(it.ResourceMethods) > 0 {
			r.Methods = map[string]Method{}
		}
		for verb, m := range it.ResourceMethods {
			// Without --embed methods every method is an empty object, which
			// must not silently become an open NONE method.
			if m.AuthorizationType == nil {
				return Config{}, fmt.Errorf("apigw: get-resources output: %s %s has no authorizationType (run get-resources with --embed methods)", verb, it.Path)
			}
			r.Methods[verb] = Method{
				AuthorizationType: *m.AuthorizationType,
				AuthorizerID:      m.AuthorizerID,
				Integration:       m.MethodIntegration != nil && m.MethodIntegration.Type == "AWS_PROXY",
			}
		}
		cfg.Resources = append(cfg.Resources, r)
	}

	var auth struct {
		Items []struct {
			ID             string `json:"id"`
			Name           string `json:"name"`
			Type           string `json:"type"`
			IdentitySource string `json:"identitySource"`
			TTL            *int64 `json:"authorizerResultTtlInSeconds"`
		} `json:"items"`
	}
	if err := decodeCLI(authorizers, &auth); err != nil {
		return Config{}, fmt.Errorf("apigw: get-authorizers output: %w", err)
	}
	for _, it := range auth.Items {
		if cfg.Authorizers == nil {
			cfg.Authorizers = map[string]*Authorizer{}
		}
		ttl := defaultAuthorizerTTL
		if it.TTL != nil {
			ttl = time.Duration(*it.TTL) * time.Second
		}
		cfg.Authorizers[it.ID] = &Authorizer{
			ID: it.ID, Name: it.Name, Type: it.Type,
			IdentitySource: it.IdentitySource, TTL: ttl,
		}
	}

	var gr struct {
		Items []struct {
			ResponseType       string            `json:"responseType"`
			StatusCode         statusCode        `json:"statusCode"`
			ResponseParameters map[string]string `json:"responseParameters"`
			ResponseTemplates  map[string]string `json:"responseTemplates"`
			DefaultResponse    bool              `json:"defaultResponse"`
		} `json:"items"`
	}
	if err := decodeCLI(gatewayResponses, &gr); err != nil {
		return Config{}, fmt.Errorf("apigw: get-gateway-responses output: %w", err)
	}
	for _, it := range gr.Items {
		if it.DefaultResponse {
			continue
		}
		if cfg.GatewayResponses == nil {
			cfg.GatewayResponses = map[string]GatewayResponse{}
		}
		cfg.GatewayResponses[it.ResponseType] = GatewayResponse{
			StatusCode: int(it.StatusCode),
			Parameters: it.ResponseParameters,
			Templates:  it.ResponseTemplates,
		}
	}
	return cfg, nil
}

func decodeCLI(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// statusCode is a gateway response's statusCode, a string in the API
// ("401"); a number is accepted too.
type statusCode int

func (s *statusCode) UnmarshalJSON(b []byte) error {
	text := strings.TrimSpace(string(b))
	if text == "null" {
		*s = 0
		return nil
	}
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
	}
	if text == "" {
		*s = 0
		return nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return fmt.Errorf("statusCode %s: not a number", b)
	}
	*s = statusCode(n)
	return nil
}
