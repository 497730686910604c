// Package apigw is an in-process double of one stage of an Amazon API
// Gateway REST API (regional endpoint, Lambda proxy integrations with
// response streaming, REQUEST Lambda authorizers, customised gateway
// responses). A *Gateway is an http.Handler: put it behind an
// httptest.Server and send real HTTP requests to
//
//	SERVER_URL/STAGE/PATH
//
// as a client would send them to https://API.execute-api.REGION.amazonaws.com/STAGE/PATH.
//
// It is built from the same configuration the deploy scripts create, either
// by hand or with FromCLI from the JSON that `aws apigateway get-resources
// --embed methods`, `get-authorizers` and `get-gateway-responses` print.
//
// What it reproduces, and where the AWS documentation says so:
//
//   - Stage routing: execute-api serves /{stage}/...; any other first
//     segment is answered 403 {"message":"Forbidden"} ("Invoke a REST API in
//     API Gateway").
//   - Resource and method matching, path parameters, greedy {proxy+}
//     ("Set up a proxy integration with a proxy resource"); no resource or
//     method gives the MISSING_AUTHENTICATION_TOKEN gateway response.
//   - REQUEST Lambda authorizers: identity-source validation before the
//     call, the authorizer input event, the "Unauthorized" error convention,
//     IAM policy evaluation against the method ARN, and the TTL cache keyed
//     by the identity sources that stores the policy, not the decision
//     ("Use API Gateway Lambda authorizers", "Input to an API Gateway Lambda
//     authorizer", "Output from an API Gateway Lambda authorizer").
//   - The Lambda proxy input event ("Input format of a Lambda function for
//     proxy integration"), the 10 MB payload quota ("Amazon API Gateway
//     quotas"), and response streaming: every chunk the function writes is
//     flushed to the client at once.
//   - The renaming and dropping of a Lambda proxy integration's response
//     headers ("Amazon API Gateway important notes for REST APIs"), which
//     gateway responses are exempt from.
//   - Gateway responses with their default status codes, the DEFAULT_4XX /
//     DEFAULT_5XX fallback, header parameters and body templates ("Gateway
//     response types for API Gateway", "Set up a gateway response for a REST
//     API").
//
// Gateway responses carry X-Amzn-Errortype (e.g. UnauthorizedException);
// integration responses never do, so a test can tell who answered.
//
// Reading headers: remapped response headers are written with API
// Gateway's spelling (x-amzn-Remapped-WWW-Authenticate). Go's HTTP client
// canonicalises received names, so read them from a real HTTP response;
// an httptest.ResponseRecorder keeps the spelling as the map key.
package apigw
