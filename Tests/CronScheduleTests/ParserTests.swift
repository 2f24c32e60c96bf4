import XCTest
@testable import CronSchedule
final class ParserTests: XCTestCase { func testX() {} }
