import MonitorCore
import XCTest

final class DeadlineQueueTests: XCTestCase {
    func testPopsDueJobsEarliestFirst() {
        var queue = DeadlineQueue()
        queue.schedule("c", at: 30)
        queue.schedule("a", at: 10)
        queue.schedule("b", at: 20)
        XCTAssertEqual(queue.nextDue, 10)
        XCTAssertEqual(queue.popDue(now: 5), [])
        XCTAssertEqual(queue.popDue(now: 20), ["a", "b"])
        XCTAssertEqual(queue.nextDue, 30)
        XCTAssertEqual(queue.count, 1)
        XCTAssertNil(queue.due(of: "a"), "a popped job waits to be scheduled again")
    }

    func testEqualDeadlinesPopInSchedulingOrder() {
        var queue = DeadlineQueue()
        for job in ["x", "y", "z"] { queue.schedule(job, at: 100) }
        XCTAssertEqual(queue.popDue(now: 100), ["x", "y", "z"])
    }

    func testReschedulingInvalidatesTheOldEntry() {
        var queue = DeadlineQueue()
        queue.schedule("a", at: 10)
        queue.schedule("b", at: 20)
        queue.schedule("a", at: 50)
        XCTAssertEqual(queue.nextDue, 20)
        XCTAssertEqual(queue.popDue(now: 40), ["b"])
        XCTAssertEqual(queue.due(of: "a"), 50)
        queue.schedule("a", at: 5)
        XCTAssertEqual(queue.popDue(now: 100), ["a"], "one pop per job, however often it was rescheduled")
        XCTAssertNil(queue.nextDue)
    }

    func testNilDeadlineRemovesTheJob() {
        var queue = DeadlineQueue()
        queue.schedule("a", at: 10)
        queue.schedule("b", at: 20)
        queue.schedule("a", at: nil)
        XCTAssertEqual(queue.nextDue, 20)
        XCTAssertEqual(queue.count, 1)
        XCTAssertEqual(queue.popDue(now: 100), ["b"])
    }

    func testFollowsTheMonitorsDeadlines() throws {
        var queue = DeadlineQueue()
        var monitor = JobMonitor(spec: try tenSecondJob(), firstSeen: 1_000)
        queue.schedule("heartbeat", at: monitor.nextDeadline)
        for action in monitor.runStarted(runID: "r1", host: "web1", at: 10_000) {
            if case .scheduleDeadline(let due) = action { queue.schedule("heartbeat", at: due) }
        }
        XCTAssertEqual(queue.nextDue, 25_000)
    }

    func testHundredThousandJobs() {
        var queue = DeadlineQueue()
        var due: [String: Int64] = [:]
        let jobs = (0..<100_000).map { "job-\($0)" }
        for job in jobs {
            due[job] = Int64.random(in: 0..<3_600_000)
            queue.schedule(job, at: due[job])
        }
        for job in jobs where job.hasSuffix("7") {
            due[job] = Int64.random(in: 0..<3_600_000)
            queue.schedule(job, at: due[job])
        }
        for job in jobs where job.hasSuffix("3") {
            due[job] = nil
            queue.schedule(job, at: nil)
        }
        XCTAssertEqual(queue.count, 90_000)
        var popped: [String] = []
        for now in stride(from: Int64(0), through: 3_600_000, by: 60_000) {
            let batch = queue.popDue(now: now)
            XCTAssertTrue(batch.allSatisfy { due[$0]! <= now })
            XCTAssertGreaterThan(queue.nextDue ?? .max, now)
            popped += batch
        }
        XCTAssertEqual(popped.count, 90_000)
        XCTAssertEqual(Set(popped), Set(due.keys))
        XCTAssertEqual(popped.map { due[$0]! }, popped.map { due[$0]! }.sorted())
        XCTAssertNil(queue.nextDue)
    }
}
