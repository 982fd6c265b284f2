extension RaftNode {
    /// Campaigns now instead of waiting for the election timeout (with a pre-vote round when enabled).
    ///
    /// For operators and tests; does nothing on a leader or on a member that is not a voter.
    public func campaign() {
        guard isPromotable, role != .leader else { return }
        startElection(isLeadershipTransfer: false)
    }

    /// Starts a pre-vote round (when enabled and not a transfer) or an election.
    func startElection(isLeadershipTransfer: Bool) {
        if configuration.preVote && !isLeadershipTransfer {
            becomePreCandidate()
            requestVotes(kind: .preVote, term: term + 1, isLeadershipTransfer: false)
        } else {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, isLeadershipTransfer: isLeadershipTransfer)
        }
    }

    private func becomePreCandidate() {
        precondition(role != .leader, "A leader never starts a pre-vote.")
        // The term and the vote stay as they are: a pre-vote changes nothing a real leader would notice.
        role = .preCandidate
        leaderID = 0
        resetElectionTimer()
        resetLeaderState()
    }

    private func becomeCandidate() {
        precondition(role != .leader, "A leader never starts an election.")
        term += 1
        vote = id
        role = .candidate
        leaderID = 0
        resetElectionTimer()
        resetLeaderState()
    }

    private func requestVotes(kind: MessageKind, term campaignTerm: UInt64, isLeadershipTransfer: Bool) {
        votes = [id: true]
        if tallyVotes() == .won {
            winElection(kind: kind)
            return
        }
        let lastIndex = log.lastIndex
        let lastTerm = log.lastTerm
        for voter in currentConfiguration.voters.sorted() where voter != id {
            send(
                Message(
                    kind: kind, from: id, to: voter, term: campaignTerm, logTerm: lastTerm, index: lastIndex,
                    isLeadershipTransfer: isLeadershipTransfer))
        }
    }

    private func winElection(kind: MessageKind) {
        if kind == .preVote {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, isLeadershipTransfer: false)
        } else {
            becomeLeader()
        }
    }

    enum ElectionOutcome { case won, lost, pending }

    /// Counts the votes received so far against the current voters.
    func tallyVotes() -> ElectionOutcome {
        var granted = 0
        var rejected = 0
        for voter in currentConfiguration.voters {
            switch votes[voter] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        let quorum = currentConfiguration.quorum
        if granted >= quorum { return .won }
        if rejected >= quorum || currentConfiguration.voters.count - rejected < quorum { return .lost }
        return .pending
    }

    /// Answers a vote or pre-vote request whose term is not below ours.
    func handleVoteRequest(_ message: Message) {
        let isPreVote = message.kind == .preVote
        // We may vote for the same candidate again (a retransmission), for anyone when we have neither voted nor
        // follow a leader in this term, and, in a pre-vote, for any future term.
        let canVote =
            vote == message.from || (vote == 0 && leaderID == 0) || (isPreVote && message.term > term)
        let responseKind: MessageKind = isPreVote ? .preVoteResponse : .voteResponse
        if canVote && log.isUpToDate(index: message.index, term: message.logTerm) {
            // A pre-vote answer carries the term the candidate asked about, so it knows which round it answers.
            send(Message(kind: responseKind, from: id, to: message.from, term: message.term))
            if !isPreVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(Message(kind: responseKind, from: id, to: message.from, term: term, reject: true))
        }
    }

    /// Records a vote or pre-vote answer while campaigning.
    func handleVoteResponse(_ message: Message) {
        let expected: MessageKind = role == .preCandidate ? .preVoteResponse : .voteResponse
        guard message.kind == expected else { return }
        votes[message.from] = !message.reject
        switch tallyVotes() {
        case .won: winElection(kind: role == .preCandidate ? .preVote : .vote)
        case .lost: becomeFollower(term: term, leader: 0)
        case .pending: break
        }
    }

    /// A leadership transfer asked this member to campaign at once.
    func handleTimeoutNow(_ message: Message) {
        guard isPromotable, role != .leader else { return }
        startElection(isLeadershipTransfer: true)
    }
}
