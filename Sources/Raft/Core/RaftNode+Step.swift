extension RaftNode {
    /// Feeds one message received from another member.
    ///
    /// Messages from older terms are answered only where that helps the sender catch up (a stale leader
    /// learns the new term); messages from newer terms move this member to that term first, except vote
    /// requests ignored under a leader lease and pre-votes, which never change anyone's term.
    public func step(_ message: Message) {
        guard message.to == id, message.from != id, message.from != 0 else { return }
        if message.term > term {
            guard acceptNewerTerm(message) else { return }
        } else if message.term < term {
            answerStaleMessage(message)
            return
        }
        dispatch(message)
    }

    /// Moves to the message's newer term when appropriate; returns whether to go on handling the message.
    private func acceptNewerTerm(_ message: Message) -> Bool {
        switch message.kind {
        case .preVote, .vote:
            // With check-quorum, a member that hears from a leader ignores campaigns: the candidate is likely a
            // partitioned member whose timer fired. A transfer's campaign was asked for by the leader itself.
            if isInLeaderLease && !message.isLeadershipTransfer { return false }
            if message.kind == .preVote { return true }
            becomeFollower(term: message.term, leader: 0)
        case .preVoteResponse where !message.reject:
            // A granted pre-vote carries the term we would campaign in; it does not make us change term.
            return true
        case .append, .heartbeat, .snapshotChunk:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: 0)
        }
        return true
    }

    private func answerStaleMessage(_ message: Message) {
        switch message.kind {
        case .append, .heartbeat, .snapshotChunk:
            // A deposed leader cut off by a partition learns the current term from this answer and steps down;
            // without it, a leader no longer in anyone's configuration would lead its stale term forever.
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term))
        case .preVote:
            send(Message(kind: .preVoteResponse, from: id, to: message.from, term: term, reject: true))
        case .vote:
            // The refusal carries our term so a candidate stuck in an old term catches up instead of
            // campaigning below everyone else forever.
            send(Message(kind: .voteResponse, from: id, to: message.from, term: term, reject: true))
        default:
            break
        }
    }

    private func dispatch(_ message: Message) {
        switch message.kind {
        case .preVote, .vote:
            handleVoteRequest(message)
        case .preVoteResponse, .voteResponse:
            if role == .preCandidate || role == .candidate { handleVoteResponse(message) }
        case .append, .heartbeat, .snapshotChunk:
            followLeader(of: message)
            switch message.kind {
            case .append: handleAppend(message)
            case .heartbeat: handleHeartbeat(message)
            default: handleSnapshotChunk(message)
            }
        case .appendResponse:
            if role == .leader { handleAppendResponse(message) }
        case .heartbeatResponse:
            if role == .leader { handleHeartbeatResponse(message) }
        case .snapshotChunkResponse:
            if role == .leader { handleSnapshotChunkResponse(message) }
        case .timeoutNow:
            handleTimeoutNow(message)
        case .readIndex:
            if role == .leader && isReadyToServe {
                acceptReadRequest(context: message.context, requester: message.from)
            }
        case .readIndexResponse:
            if role != .leader { readStates.append(ReadState(index: message.index, context: message.context)) }
        }
    }

    /// A message from the leader of our term: follow it and restart the election timer.
    private func followLeader(of message: Message) {
        precondition(
            !(role == .leader && message.term == term),
            "Two leaders in term \(term): \(id) and \(message.from). Election safety is broken.")
        if role != .follower {
            becomeFollower(term: message.term, leader: message.from)
        }
        leaderID = message.from
        electionElapsed = 0
    }
}
