import Quantum
import XCTest

/// "Did you mean": a near miss is a typo (an edit or two, a swapped pair counting as one);
/// anything further gets the known names.
final class SpellingTests: XCTestCase {
    func testNearMissesAreSuggested() {
        XCTAssertEqual(Spelling.closest(to: "greetin", in: ["greeting", "name"]), "greeting")
        XCTAssertEqual(Spelling.closest(to: "fiel_server", in: ["file_server", "file_sync"]), "file_server", "a swapped pair is one edit")
        XCTAssertEqual(Spelling.closest(to: "read_timout", in: ["read_timeout", "read_header_timeout", "write_timeout"]), "read_timeout")
        XCTAssertEqual(Spelling.closest(to: "hots", in: ["host", "hosts"]), "host", "ties go to the first in order")
    }

    func testFarOffNamesGetTheList() {
        XCTAssertNil(Spelling.closest(to: "php", in: ["file_server", "vars"]))
        XCTAssertNil(Spelling.closest(to: "ab", in: ["xy"]), "short names allow one edit, not two")
        XCTAssertEqual(Spelling.hint(for: "zzz", known: ["b", "a", "b"], label: " fields"), "; known fields: a, b")
        XCTAssertEqual(Spelling.hint(for: "bdy", known: ["body"]), #"; did you mean "body"?"#)
    }
}
