import Foundation
import Reporting
import XCTest

final class RunEventTests: XCTestCase {
    private let start = RunEvent.start(job: "nightly", runID: "0190abcd00001234abcd", host: "web1", pid: 4242,
                                       startedAtMs: 1_774_747_800_123, scheduledFor: 1_774_747_800, fence: 7,
                                       command: "/bin/echo \"hi\"\n\ttab", leaseMs: 60_000)

    func testXADDArgumentsNameEveryFieldAsStrings() {
        let args = start.xaddArguments(keyPrefix: "jw:")
        XCTAssertEqual(Array(args.prefix(6)), ["XADD", "jw:events", "MAXLEN", "~", "1000000", "*"])
        let pairs = Array(args.dropFirst(6))
        XCTAssertEqual(stride(from: 0, to: pairs.count, by: 2).map { pairs[$0] },
                       ["type", "job", "run_id", "host", "ts", "pid", "started_at", "scheduled_for", "fence", "command", "lease_ms"])
        XCTAssertEqual(pairs[1], "start")
        XCTAssertEqual(pairs[11], "4242")
        XCTAssertEqual(pairs[13], "2026-03-29T01:30:00.123Z")
        XCTAssertEqual(pairs[15], "2026-03-29T01:30:00.000Z")
        XCTAssertEqual(pairs[17], "7")
        XCTAssertEqual(pairs[21], "60000")
        let finish = RunEvent.finish(job: "j", runID: "r1", host: "h", exitCode: 143, signal: 15, durationMs: 5,
                                     outcome: "killed", outputTail: "x")
        let f = finish.xaddArguments(keyPrefix: "")
        XCTAssertEqual(f[f.firstIndex(of: "signal")! + 1], "15")
        let noSignal = RunEvent.finish(job: "j", runID: "r1", host: "h", exitCode: 1, signal: nil, durationMs: 5,
                                       outcome: "failure", outputTail: "")
        let n = noSignal.xaddArguments(keyPrefix: "")
        XCTAssertEqual(n[n.firstIndex(of: "signal")! + 1], "", "absent values are empty strings on the stream")
    }

    func testJSONIsValidTypedAndRoundTripsThroughTheSpoolForm() throws {
        let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(start.json())) as? [String: Any])
        XCTAssertEqual(body["pid"] as? Int, 4242)
        XCTAssertEqual(body["fence"] as? Int, 7)
        XCTAssertEqual(body["command"] as? String, "/bin/echo \"hi\"\n\ttab")
        XCTAssertNil(body["type"], "the HTTP path says the type")
        XCTAssertEqual(start.httpPath, "/api/v1/jobs/nightly/runs/0190abcd00001234abcd/start")
        XCTAssertEqual(RunEvent(json: start.json(includeType: true)), start)
        let skip = RunEvent.skip(job: "nightly", runID: "abc", host: "web2", reason: .lockHeld, holder: "web1:1:x", scheduledFor: nil)
        XCTAssertEqual(skip.httpPath, "/api/v1/jobs/nightly/skip")
        XCTAssertEqual(RunEvent(json: skip.json(includeType: true)), skip)
        let skipBody = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(skip.json())) as? [String: Any])
        XCTAssertTrue(skipBody["scheduled_for"] is NSNull)
    }

    func testUnsafeOrMalformedSpoolFormsAreRefused() {
        XCTAssertNil(RunEvent(json: Array("not json".utf8)))
        XCTAssertNil(RunEvent(json: Array(#"{"type":"start","job":"../etc","run_id":"a","host":"h","ts":"t"}"#.utf8)))
        XCTAssertNil(RunEvent(json: Array(#"{"type":"start","job":"ok","run_id":"a/b","host":"h","ts":"t"}"#.utf8)))
        XCTAssertNil(RunEvent(json: Array(#"{"type":"launch","job":"ok","run_id":"a","host":"h","ts":"t"}"#.utf8)))
        XCTAssertNil(RunEvent(json: Array(#"{"type":"skip","job":"ok","run_id":"a","host":"h","ts":"t"} x"#.utf8)), "trailing bytes")
        XCTAssertNil(RunEvent(json: Array(#"{"type":"skip","job":"ok","run_id":"a","host":"h","ts":"t","reason":{"a":1}}"#.utf8)))
        XCTAssertNil(RunEvent(json: Array(#"{"type":"skip","job":"ok","run_id":"a","host":"h","ts":"t\x"}"#.utf8)), "bad escape")
    }

    /// The spool's reader is our own (Foundation stays out of jobrun): it must read back every
    /// string the writer can produce, and JSON written by hand or other tools in the same shape.
    func testSpoolFormReadsBackEscapesSurrogatesAndWhitespace() throws {
        let awkward = "quote \" backslash \\ slash / nl \n cr \r tab \t bell \u{7} é 日本 🚀 \u{0}"
        let event = RunEvent.start(job: "nightly", runID: "r1", host: awkward, pid: 1, startedAtMs: 0,
                                   scheduledFor: nil, fence: -3, command: awkward)
        XCTAssertEqual(RunEvent(json: event.json(includeType: true)), event)

        let handWritten = #" { "type" : "start", "job":"nightly" ,"run_id":"r1","host":"h\ud83d\ude80\/","ts":"t", "pid": 12, "fence": null } "#
        let decoded = try XCTUnwrap(RunEvent(json: Array(handWritten.utf8)))
        XCTAssertEqual(decoded.host, "h🚀/")
        XCTAssertNil(RunEvent(json: Array(#"{"type":"start","job":"nightly","run_id":"r1","host":"\ud83d","ts":"t"}"#.utf8)),
                     "a lone surrogate is not text")
    }

    func testOutputTailIsCappedAtSixtyFourKiBOfUTF8() {
        let long = String(repeating: "é", count: 40_000) + "END"
        let finish = RunEvent.finish(job: "j", runID: "r", host: "h", exitCode: 0, signal: nil, durationMs: 1,
                                     outcome: "success", outputTail: long)
        guard case .text(let tail)? = finish.value("output_tail") else { return XCTFail("no tail") }
        XCTAssertLessThanOrEqual(tail.utf8.count, RunEvent.outputTailLimit)
        XCTAssertTrue(tail.hasSuffix("éEND"))
        XCTAssertTrue(tail.hasPrefix("é"), "cut at a character boundary")
    }
}
