import Foundation
import Hummingbird
import JobwatchCore
import Logging
import NIOCore
import Reporting
import ServiceLifecycle

/// Hummingbird's basic context plus the client's address (the host of a `/ping`) and the
/// API's 1 MiB body limit.
public struct MonitorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { requestBodyLimit }
}

/// The HTTP API of SPEC §3.2. Handlers validate and hand over: reports and control requests
/// (pause, resume, define) become `<prefix>events` entries the leader applies in order;
/// reads come from Redis, so every replica answers them. Accepted writes answer
/// `202 Accepted`: they take effect when the leader applies them, normally within
/// milliseconds.
public struct MonitorAPI: Sendable {
    let environment: MonitorEnvironment
    let auth: Authenticator
    let intake: ReportIntake
    let reads: MonitorReads
    let leadership: Leadership?

    public init(environment: MonitorEnvironment, auth: Authenticator, leadership: Leadership?) {
        self.environment = environment
        self.auth = auth
        self.leadership = leadership
        intake = ReportIntake(redis: environment.shared, keyPrefix: environment.prefix)
        reads = MonitorReads(environment: environment)
    }

    public func router() -> Router<MonitorRequestContext> {
        let router = Router(context: MonitorRequestContext.self, options: .autoGenerateHeadEndpoints)
        // First, so unknown routes and wrong methods get the JSON error shape too.
        router.add(middleware: JSONErrorMiddleware())
        router.get("/healthz") { _, _ in self.health() }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
        }

        router.post("/api/v1/jobs/:job/runs/:run_id/start") { request, context in
            try await self.report(.start, request, context)
        }
        router.post("/api/v1/jobs/:job/runs/:run_id/finish") { request, context in
            try await self.report(.finish, request, context)
        }
        router.post("/api/v1/jobs/:job/skip") { request, context in try await self.report(.skip, request, context) }
        for path: RouterPath in ["/ping/:job", "/ping/:job/:signal"] {
            router.get(path) { request, context in try await self.ping(request, context) }
            router.post(path) { request, context in try await self.ping(request, context) }
        }

        router.get("/api/v1/jobs") { request, _ in
            try auth.require(.read, request)
            let problems = try await deliveryProblems(nil)
            let jobs = try Self.jsonObject(try await reads.jobs())["jobs"] as? [[String: Any]] ?? []
            return jsonResponse(["jobs": jobs.map { Self.adding(problems, to: $0) }])
        }
        router.get("/api/v1/jobs/:job") { request, context in
            let job = try Self.job(context)
            try auth.require(.read, request)
            guard let view = try await reads.job(job) else { throw APIError(.notFound, "unknown job \"\(job)\"") }
            return jsonResponse(Self.adding(try await deliveryProblems(job), to: try Self.jsonObject(view)))
        }
        router.get("/api/v1/jobs/:job/runs") { request, context in
            let job = try Self.job(context)
            try auth.require(.read, request)
            let limit = try Self.limit(request.uri.queryParameters.get("limit"))
            guard let runs = try await reads.runs(job, limit: limit) else { throw APIError(.notFound, "unknown job \"\(job)\"") }
            return jsonResponse(try Self.jsonObject(runs))
        }

        router.put("/api/v1/jobs/:job") { request, context in try await self.define(request, context) }
        router.post("/api/v1/jobs/:job/pause") { request, context in try await self.pause(request, context) }
        router.post("/api/v1/jobs/:job/resume") { request, context in
            let job = try Self.job(context)
            try auth.require(.admin, request)
            try await requireKnown(job)
            try await control(environment.store.resumeEntry(job: job, at: environment.clock()))
            return jsonResponse(["job": job, "status": "resume accepted"], status: .accepted)
        }
        FleetRoutes(environment: environment, auth: auth).add(to: router)
        Self.refuseOtherMethods(on: router)
        return router
    }

    /// Hummingbird answers a known path asked with a method it does not serve as an unknown
    /// path (404); RFC 9110 wants 405 and the methods it does serve in `Allow`. HEAD is served
    /// wherever GET is.
    static func refuseOtherMethods(on router: Router<MonitorRequestContext>) {
        let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, .init("QUERY")!]
        for routes in Dictionary(grouping: router.routes, by: \.path.description).values {
            var served = Set(routes.map(\.method))
            if served.contains(.get) { served.insert(.head) }
            let allow = served.map(\.rawValue).sorted().joined(separator: ", ")
            for method in methods where !served.contains(method) {
                router.on(routes[0].path, method: method) { _, _ -> Response in
                    throw HTTPError(.methodNotAllowed, headers: [.allow: allow])
                }
            }
        }
    }

    func health() -> Response {
        jsonResponse(["status": "ok", "replica": environment.replica, "leader": leadership?.isLeader ?? false])
    }

    func report(_ kind: RunEvent.Kind, _ request: Request, _ context: MonitorRequestContext) async throws -> Response {
        let job = try Self.job(context)
        var runID: String?
        if kind != .skip {
            let id = try context.parameters.require("run_id")
            guard isValidRunID(id) else { throw APIError.badRequest(runIDMessage(id)) }
            runID = id
        }
        try auth.require(.report, request)
        let body = try await Self.body(request, context)
        try await intake.report(kind, job: job, runID: runID, body: body)
        return jsonResponse(["job": job, "status": "accepted"], status: .accepted)
    }

    /// Unknown jobs are registered by their first ping (with defaults and no schedule, so
    /// never "missed"), the way a job seen first in the events stream is.
    func ping(_ request: Request, _ context: MonitorRequestContext) async throws -> Response {
        let job = try Self.job(context)
        let signal = try Self.pingSignal(context.parameters.get("signal"))
        try auth.require(.report, request, allowQuery: true)
        let body = try await Self.body(request, context)
        let host = request.uri.queryParameters.get("host").flatMap { $0.isEmpty ? nil : String($0) }
            ?? context.remoteAddress?.ipAddress ?? "unknown"
        try await intake.ping(job: job, signal: signal, host: host, output: body)
        return jsonResponse(["job": job, "status": "accepted"], status: .accepted)
    }

    /// `PUT /api/v1/jobs/{job}`: a `jobs.d` file's YAML (JSON is YAML too), checked exactly as
    /// `jobctl check` would, stored in `<prefix>mon:defs`, then announced to the leader.
    func define(_ request: Request, _ context: MonitorRequestContext) async throws -> Response {
        let job = try Self.job(context)
        try auth.require(.admin, request)
        let text = String(decoding: try await Self.body(request, context), as: UTF8.self)
        let definition: JobDefinition
        do {
            definition = try JobDefinition.parse(text: text, path: "\(job).yaml", defaultTimezone: environment.config.timezone)
        } catch {
            throw APIError.badRequest("invalid definition: \(error)")
        }
        for channel in definition.alerts ?? [] where environment.monitor.channels[channel] == nil {
            throw APIError.badRequest("alerts: unknown channel \"\(channel)\"")
        }
        let store = environment.store
        let now = environment.clock()
        try await environment.shared.run { c in
            let replies = try c.pipeline([["HSET", store.defs, job, text], store.defineEntry(job: job, at: now)])
            if let failure = replies.first(where: \.isError) { throw APIError(.internalServerError, "Redis: \(failure)") }
        }
        return jsonResponse(["job": job, "status": "definition accepted"], status: .accepted)
    }

    /// Body `{"until": RFC 3339}` pauses until then; no body or no `until` until resumed.
    func pause(_ request: Request, _ context: MonitorRequestContext) async throws -> Response {
        let job = try Self.job(context)
        try auth.require(.admin, request)
        let fields = try ReportFields(json: try await Self.body(request, context))
        let until = try fields.time("until").flatMap(MonitorEvent.millis)
        if let until, until <= environment.clock() { throw APIError.badRequest("until: must be in the future") }
        try await requireKnown(job)
        try await control(environment.store.pauseEntry(job: job, until: until, at: environment.clock()))
        var answer: [String: Any] = ["job": job, "status": "pause accepted"]
        answer["paused_until"] = until.map { Timestamp.format(ms: $0) } ?? NSNull()
        return jsonResponse(answer, status: .accepted)
    }

    /// `mon:delivery`: job → the last alert a channel refused for good (one job, or all).
    func deliveryProblems(_ job: String?) async throws -> [String: Any] {
        let key = environment.store.delivery
        let reply = try await environment.shared.command(job.map { ["HGET", key, $0] } ?? ["HGETALL", key])
        var problems: [String: Any] = [:]
        func add(_ job: String, _ json: String?) {
            problems[job] = json.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
        }
        if let job { add(job, reply.string) } else {
            let flat = reply.array ?? []
            for i in stride(from: 0, to: flat.count - 1, by: 2) { flat[i].string.map { add($0, flat[i + 1].string) } }
        }
        return problems
    }

    /// Each job object gains `delivery`: null, or `{channel, event, status, error, at}` for an
    /// alert that was refused and will not be retried (SPEC §3.2 allows added fields).
    static func adding(_ problems: [String: Any], to job: [String: Any]) -> [String: Any] {
        var job = job
        job["delivery"] = (job["job"] as? String).flatMap { problems[$0] } ?? NSNull()
        return job
    }

    static func jsonObject(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Pausing a job nobody has heard of is a typo, not a registration. Known: in the
    /// leader's state, registered by PUT, or defined in jobs.d (every replica holds the same
    /// directory, and a file may be newer than the leader's last reload).
    func requireKnown(_ job: String) async throws {
        let directory = environment.config.jobsDir
        if ["yaml", "yml"].contains(where: { FileManager.default.fileExists(atPath: "\(directory)/\(job).\($0)") }) { return }
        let store = environment.store
        let known = try await environment.shared.run { c in
            try c.command(["HEXISTS", store.state, job]).integer == 1 || c.command(["HEXISTS", store.defs, job]).integer == 1
        }
        if !known { throw APIError(.notFound, "unknown job \"\(job)\"") }
    }

    func control(_ xadd: [String]) async throws {
        if case .error(let message) = try await environment.shared.command(xadd) {
            throw APIError(.internalServerError, "Redis: \(message)")
        }
    }

    /// Job names become Redis keys and file names: checked before anything else is looked at.
    static func job(_ context: MonitorRequestContext) throws -> String {
        let job = try context.parameters.require("job")
        guard JobName.isValid(job) else { throw APIError.badRequest(JobName.validationMessage(job)) }
        return job
    }

    static func body(_ request: Request, _ context: MonitorRequestContext) async throws -> [UInt8] {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return Array(buffer.readableBytesView)
    }

    /// `?limit=`: how many runs to list.
    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 50 }
        guard let n = Int(text), (1...10_000).contains(n) else {
            throw APIError.badRequest("limit: expected a number from 1 to 10000, got \"\(text)\"")
        }
        return n
    }

    static func pingSignal(_ segment: String?) throws -> MonitorPing.Signal {
        switch segment {
        case nil: return .success
        case "start": return .start
        case "fail": return .fail
        case let text?:
            guard let code = Int32(text), (0...255).contains(code) else {
                throw APIError.badRequest("unknown ping \"\(text)\": use /start, /fail or an exit code 0-255")
            }
            return .exitCode(code)
        }
    }
}

extension MonitorAPI {
    /// The HTTP server as a service, listening on `HOST:PORT` (`monitor.listen`).
    public func server(listen: String) throws -> any Service {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65_535).contains(port) else {
            throw APIError.badRequest("listen: expected HOST:PORT, got \"\(listen)\"")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(host.isEmpty ? "0.0.0.0" : host, port: port), serverName: "jobmond"),
            logger: environment.logger)
    }
}
