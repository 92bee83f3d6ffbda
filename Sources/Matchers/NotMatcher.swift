import QuantumCore

/// `not`: true when none of its matcher sets matches.
public struct NotMatcher: MatcherModule {
    public static let moduleID = "http.matchers.not"
    public var sets: [MatcherSet]

    public init(from decoder: any Decoder) throws {
        if case .object = try decoder.jsonValue() {
            sets = [try MatcherSet(from: decoder)]
        } else {
            sets = try decoder.singleValueContainer().decode([MatcherSet].self)
        }
    }

    public func matches(_ request: Request, context: inout Context) throws -> Bool {
        var scratch = context
        for set in sets where try set.matches(request, context: &scratch) { return false }
        return true
    }
}
