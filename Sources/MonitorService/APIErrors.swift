import Foundation
import Hummingbird
import Logging

/// A request the API refuses, with the reason the client sees as `{"error": "..."}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
}

/// The most a request body may carry (SPEC §3.2); larger ones get 413.
public let requestBodyLimit = 1 << 20

/// Turns every failure into the API's one error shape, `{"error": "..."}`, so clients parse a
/// single format: our own `APIError`s, Hummingbird's (unknown route 404, body over the limit
/// 413, wrong method 405) and anything unexpected (500, logged, details kept out of the
/// response).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return Self.response(error.status, error.message)
        } catch let error as HTTPError {
            var response = Self.response(error.status, error.body ?? Self.defaultMessage(error.status))
            response.headers.append(contentsOf: error.headers)
            return response
        } catch let error as any HTTPResponseError {
            return Self.response(error.status, Self.defaultMessage(error.status))
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return Self.response(.internalServerError, "internal error; see the jobmond log")
        }
    }

    static func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: return "not found"
        case 405: return "method not allowed"
        case 413: return "request body larger than \(requestBodyLimit) bytes"
        default: return status.reasonPhrase.lowercased()
        }
    }

    static func response(_ status: HTTPResponse.Status, _ message: String) -> Response {
        jsonResponse(["error": message], status: status)
    }
}

/// A JSON response from `JSONSerialization` values (the API's objects are built as
/// dictionaries so that `null` fields stay present, as the contract requires).
func jsonResponse(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
