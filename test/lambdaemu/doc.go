// Package lambdaemu plays the Lambda service's side of the Lambda Runtime API
// so that tests can run the real Lambda build of a function (a "bootstrap"
// executable that calls aws-lambda-go's lambda.Start) the way Lambda runs it.
//
// It exists because the official emulator, aws-lambda-rie, buffers streamed
// responses and runs a single execution environment: a test cannot see the
// first bytes of a response stream before the function has finished, nor
// exercise cold starts, reuse and the concurrency limit. Here each execution
// environment ("instance") is one OS process of the binary with its own
// Runtime API listener on 127.0.0.1, and every response is handed to the
// invoker as the runtime POSTs it.
//
// A Function starts no process until it is invoked. Invoke gives the event to
// the lowest-numbered idle instance, else cold-starts a new one while fewer
// than Options.MaxInstances are alive, else waits for one to become idle. An
// instance is idle once its runtime asks for the next invocation. Invoke
// returns as soon as the response has started; Result.Body then delivers the
// bytes as the function writes them. InvokeHTTP does the same for an API
// Gateway REST proxy event and decodes the streaming prelude (or a buffered
// APIGatewayProxyResponse) the way API Gateway does.
//
// Failures are reported the way Lambda reports them to a synchronous caller:
// as a FunctionError with Lambda's error type ("Runtime.ExitError",
// "Sandbox.Timedout", or the errorType the function sent). Turning them into
// HTTP statuses, as API Gateway does, is left to the caller.
//
// Not reproduced: the Extensions and Telemetry APIs (a call to them is
// answered 404 and recorded, see Function.Unexpected), freezing an idle
// instance between invocations, per-instance concurrency
// (AWS_LAMBDA_MAX_CONCURRENCY), and memory or CPU limits.
package lambdaemu
