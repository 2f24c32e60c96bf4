import XCTest
// Placeholder so the target builds until its first real test lands; delete it then.
