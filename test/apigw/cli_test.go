package apigw_test

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"mcplambda/test/apigw"
)

// The CLI outputs for the API scripts/apigateway.sh builds, as
// `aws apigateway get-resources --embed methods`, `get-authorizers` and
// `get-gateway-responses` print them.
const cliResources = `{
    "items": [
        {
            "id": "a1b2c3d4e5",
            "path": "/"
        },
        {
            "id": "m9cp01",
            "parentId": "a1b2c3d4e5",
            "pathPart": "mcp",
            "path": "/mcp",
            "resourceMethods": {
                "DELETE": {
                    "httpMethod": "DELETE",
                    "authorizationType": "CUSTOM",
                    "authorizerId": "az0001",
                    "apiKeyRequired": false,
                    "methodIntegration": {
                        "type": "AWS_PROXY",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:123456789012:function:mcp-server/response-streaming-invocations",
                        "passthroughBehavior": "WHEN_NO_MATCH",
                        "timeoutInMillis": 900000,
                        "cacheNamespace": "m9cp01",
                        "cacheKeyParameters": [],
                        "responseTransferMode": "STREAM"
                    }
                },
                "GET": {
                    "httpMethod": "GET",
                    "authorizationType": "CUSTOM",
                    "authorizerId": "az0001",
                    "apiKeyRequired": false,
                    "methodIntegration": {
                        "type": "AWS_PROXY",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:123456789012:function:mcp-server/response-streaming-invocations",
                        "passthroughBehavior": "WHEN_NO_MATCH",
                        "timeoutInMillis": 900000,
                        "cacheNamespace": "m9cp01",
                        "cacheKeyParameters": [],
                        "responseTransferMode": "STREAM"
                    }
                },
                "OPTIONS": {
                    "httpMethod": "OPTIONS",
                    "authorizationType": "NONE",
                    "apiKeyRequired": false,
                    "methodIntegration": {
                        "type": "AWS_PROXY",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:123456789012:function:mcp-server/response-streaming-invocations",
                        "passthroughBehavior": "WHEN_NO_MATCH",
                        "timeoutInMillis": 900000,
                        "cacheNamespace": "m9cp01",
                        "cacheKeyParameters": [],
                        "responseTransferMode": "STREAM"
                    }
                },
                "POST": {
                    "httpMethod": "POST",
                    "authorizationType": "CUSTOM",
                    "authorizerId": "az0001",
                    "apiKeyRequired": false,
                    "methodIntegration": {
                        "type": "AWS_PROXY",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:123456789012:function:mcp-server/response-streaming-invocations",
                        "passthroughBehavior": "WHEN_NO_MATCH",
                        "timeoutInMillis": 900000,
                        "cacheNamespace": "m9cp01",
                        "cacheKeyParameters": [],
                        "responseTransferMode": "STREAM"
                    }
                }
            }
        },
        {
            "id": "wk0001",
            "parentId": "a1b2c3d4e5",
            "pathPart": ".well-known",
            "path": "/.well-known"
        },
        {
            "id": "px0001",
            "parentId": "wk0001",
            "pathPart": "{proxy+}",
            "path": "/.well-known/{proxy+}",
            "resourceMethods": {
                "ANY": {
                    "httpMethod": "ANY",
                    "authorizationType": "NONE",
                    "apiKeyRequired": false,
                    "requestParameters": {
                        "method.request.path.proxy": true
                    },
                    "methodIntegration": {
                        "type": "AWS_PROXY",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:123456789012:function:mcp-server/response-streaming-invocations",
                        "passthroughBehavior": "WHEN_NO_MATCH",
                        "timeoutInMillis": 900000,
                        "cacheNamespace": "px0001",
                        "cacheKeyParameters": [
                            "method.request.path.proxy"
                        ],
                        "responseTransferMode": "STREAM"
                    }
                }
            }
        },
        {
            "id": "mk0001",
            "parentId": "a1b2c3d4e5",
            "pathPart": "health",
            "path": "/health",
            "resourceMethods": {
                "GET": {
                    "httpMethod": "GET",
                    "authorizationType": "NONE",
                    "apiKeyRequired": false,
                    "methodIntegration": {
                        "type": "MOCK",
                        "requestTemplates": {
                            "application/json": "{\"statusCode\": 200}"
                        },
                        "passthroughBehavior": "WHEN_NO_MATCH",
                        "timeoutInMillis": 29000,
                        "cacheNamespace": "mk0001",
                        "cacheKeyParameters": []
                    }
                }
            }
        }
    ]
}
`

const cliAuthorizers = `{
    "items": [
        {
            "id": "az0001",
            "name": "mcp-authorizer",
            "type": "REQUEST",
            "authType": "custom",
            "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mcp-authorizer/invocations",
            "identitySource": "method.request.header.Authorization",
            "authorizerResultTtlInSeconds": 300
        }
    ]
}
`

const cliGatewayResponses = `{
    "items": [
        {
            "responseType": "UNAUTHORIZED",
            "statusCode": "401",
            "responseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
                "gatewayresponse.header.Access-Control-Expose-Headers": "'WWW-Authenticate'",
                "gatewayresponse.header.WWW-Authenticate": "'Bearer scope=\"mcp\", resource_metadata=\"https://abc123.execute-api.us-east-1.amazonaws.com/prod/.well-known/oauth-protected-resource/mcp\"'"
            },
            "responseTemplates": {
                "application/json": "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,\"message\":\"Unauthorized: send an OAuth access token\"}}"
            },
            "defaultResponse": false
        },
        {
            "responseType": "MISSING_AUTHENTICATION_TOKEN",
            "statusCode": "404",
            "responseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "'*'"
            },
            "responseTemplates": {
                "application/json": "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Not Found\"}}"
            },
            "defaultResponse": false
        },
        {
            "responseType": "DEFAULT_4XX",
            "responseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "'*'"
            },
            "responseTemplates": {
                "application/json": "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":$context.error.messageString}}"
            },
            "defaultResponse": false
        },
        {
            "responseType": "THROTTLED",
            "statusCode": "429",
            "responseParameters": {},
            "responseTemplates": {
                "application/json": "{\"message\":$context.error.messageString}"
            },
            "defaultResponse": true
        },
        {
            "responseType": "DEFAULT_5XX",
            "responseParameters": {},
            "responseTemplates": {
                "application/json": "{\"message\":$context.error.messageString}"
            },
            "defaultResponse": true
        }
    ]
}
`

func TestFromCLI(t *testing.T) {
	cfg, err := apigw.FromCLI([]byte(cliResources), []byte(cliAuthorizers), []byte(cliGatewayResponses))
	if err != nil {
		t.Fatal(err)
	}
	custom := apigw.Method{AuthorizationType: "CUSTOM", AuthorizerID: "az0001", Integration: true}
	open := apigw.Method{AuthorizationType: "NONE", Integration: true}
	want := apigw.Config{
		Resources: []apigw.Resource{
			{Path: "/", ID: "a1b2c3d4e5"},
			{Path: "/mcp", ID: "m9cp01", Methods: map[string]apigw.Method{"DELETE": custom, "GET": custom, "POST": custom, "OPTIONS": open}},
			{Path: "/.well-known", ID: "wk0001"},
			{Path: "/.well-known/{proxy+}", ID: "px0001", Methods: map[string]apigw.Method{"ANY": open}},
			{Path: "/health", ID: "mk0001", Methods: map[string]apigw.Method{"GET": {AuthorizationType: "NONE"}}},
		},
		Authorizers: map[string]*apigw.Authorizer{
			"az0001": {ID: "az0001", Name: "mcp-authorizer", Type: "REQUEST", IdentitySource: "method.request.header.Authorization", TTL: 300 * time.Second},
		},
		GatewayResponses: map[string]apigw.GatewayResponse{
			"UNAUTHORIZED": {
				StatusCode: 401,
				Parameters: map[string]string{
					"gatewayresponse.header.Access-Control-Allow-Origin":   "'*'",
					"gatewayresponse.header.Access-Control-Expose-Headers": "'WWW-Authenticate'",
					"gatewayresponse.header.WWW-Authenticate":              `'Bearer scope="mcp", resource_metadata="https://abc123.execute-api.us-east-1.amazonaws.com/prod/.well-known/oauth-protected-resource/mcp"'`,
				},
				Templates: map[string]string{"application/json": `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Unauthorized: send an OAuth access token"}}`},
			},
			"MISSING_AUTHENTICATION_TOKEN": {
				StatusCode: 404,
				Parameters: map[string]string{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
				Templates:  map[string]string{"application/json": `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Not Found"}}`},
			},
			"DEFAULT_4XX": {
				Parameters: map[string]string{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
				Templates:  map[string]string{"application/json": `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":$context.error.messageString}}`},
			},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("FromCLI\n%+v\nwant\n%+v", cfg, want)
	}

	// The parsed configuration serves as the deployed API would.
	b := &backend{}
	cfg.Authorizers["az0001"].Invoke = b.authorizer
	cfg.Integration = b.integration
	cfg.MaxBodyBytes = 16
	g, err := apigw.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	tests := []struct {
		name, method, path, body string
		header                   map[string][]string
		wantStatus               int
		wantBody                 string
		wantHeader               map[string]string
	}{
		{name: "no token", method: "POST", path: "/prod/mcp", wantStatus: 401,
			wantBody: `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Unauthorized: send an OAuth access token"}}`,
			wantHeader: map[string]string{
				"WWW-Authenticate":              `Bearer scope="mcp", resource_metadata="https://abc123.execute-api.us-east-1.amazonaws.com/prod/.well-known/oauth-protected-resource/mcp"`,
				"Access-Control-Allow-Origin":   "*",
				"Access-Control-Expose-Headers": "WWW-Authenticate",
			}},
		{name: "token", method: "POST", path: "/prod/mcp", header: bearer("alice"), wantStatus: 200, wantBody: "ok"},
		{name: "unknown path", method: "GET", path: "/prod/nope", wantStatus: 404,
			wantBody: `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Not Found"}}`},
		{name: "too large falls back to DEFAULT_4XX", method: "POST", path: "/prod/.well-known/x", body: strings.Repeat("x", 17), wantStatus: 413,
			wantBody:   `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Request Too Long"}}`,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "*"}},
		{name: "discovery", method: "GET", path: "/prod/.well-known/oauth-protected-resource/mcp", wantStatus: 200, wantBody: "ok"},
		{name: "non-proxy integration", method: "GET", path: "/prod/health", wantStatus: 500,
			wantBody: `{"message":"Internal server error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, srv, tt.method, tt.path, tt.header, tt.body)
			if res.status != tt.wantStatus || res.body != tt.wantBody {
				t.Fatalf("got %d %s\nwant %d %s", res.status, res.body, tt.wantStatus, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := res.header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestFromCLIErrors(t *testing.T) {
	tests := []struct {
		name                  string
		resources, authz, gwr string
		wantErr               string // "" means no error
	}{
		{name: "all empty"},
		{name: "empty items", resources: `{"items": []}`, authz: `{"items": []}`, gwr: `{"items": []}`},
		{name: "TTL absent is the default 300 s", authz: `{"items": [{"id": "a", "type": "REQUEST", "identitySource": "method.request.header.Authorization"}]}`},
		{name: "numeric status code", gwr: `{"items": [{"responseType": "UNAUTHORIZED", "statusCode": 401, "defaultResponse": false}]}`},
		{name: "bad resources JSON", resources: `{"items": [`, wantErr: "get-resources"},
		{name: "bad authorizers JSON", authz: `{"items": {}}`, wantErr: "get-authorizers"},
		{name: "bad gateway responses JSON", gwr: `[`, wantErr: "get-gateway-responses"},
		{name: "status code not a number", gwr: `{"items": [{"responseType": "UNAUTHORIZED", "statusCode": "4o1"}]}`, wantErr: "not a number"},
		{name: "methods not embedded", resources: `{"items": [{"id": "r1", "path": "/mcp", "resourceMethods": {"POST": {}}}]}`, wantErr: "--embed methods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := apigw.FromCLI([]byte(tt.resources), []byte(tt.authz), []byte(tt.gwr))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range cfg.Authorizers {
					if a.TTL != 300*time.Second {
						t.Errorf("TTL %v", a.TTL)
					}
				}
				for _, r := range cfg.GatewayResponses {
					if r.StatusCode != 401 {
						t.Errorf("status %d", r.StatusCode)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q in it", err, tt.wantErr)
			}
		})
	}
}
