import XCTest
final class PlaceholderWorkloadsTests: XCTestCase { func testModuleLinks() {} }
