/// A property violation found by ``SafetyChecker``; the simulation adds the seed and step.
struct SafetyViolation: Error {
    var reason: String
}
