import XCTest
final class PlaceholderTUITests: XCTestCase { func testModuleLinks() {} }
