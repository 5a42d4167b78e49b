import Foundation
import XCTest
import Model
import Policies
import TestSupport
@testable import Experiments

/// The few-shot read counters: every fork registers, and nothing keeps them alive once the
/// run that made them is over (a reference cycle here leaked every sequence's policy state).
final class CountingPolicyTests: XCTestCase {
    func testCountersAndTheirForksAreFreedWithTheirList() throws {
        let model = Tiny.model()
        let method = try PolicyRegistry.make("h2o:heavy=0.1,recent=0.1", model: model,
                                             context: MethodContext(calibrationTokens: { Tiny.tokens(64, seed: 5) }))
        weak var counter: CountingPolicy?, fork: KVPolicy?, list: CounterList?
        do {
            let counters = CounterList()
            let policy = CountingPolicy(method.makePolicy(), config: model.config, list: counters)
            let forked = policy.fork()
            let sequence = model.newSequence(policy: policy, policyStart: 0, capacity: 16)
            try model.forward([(sequence, Tiny.tokens(12))], logits: .none)
            XCTAssertGreaterThan(counters.total.managedAvailable, 0, "the counter counted the sequence's reads")
            counter = policy
            fork = forked
            list = counters
        }
        XCTAssertNil(list)
        XCTAssertNil(counter)
        XCTAssertNil(fork)
    }
}
