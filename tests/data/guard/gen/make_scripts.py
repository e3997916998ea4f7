#!/usr/bin/env python3
"""Writes the scripts of tests/guard_e2e.rs.

Each script is a session file written by hand in the Claude Code 2.1.328
shape, with the session writer of tests/data/feature-dev/gen/make_scripts.py:
its assistant turns are what a scripted model says, its tool results what the
agents report. Here the model breaks a rule once; `orchlint guard`, installed
as the plugin's hooks, denies that call; the model's next turn complies. A
denied call's result is written as the CLI writes it (a `tool_result` with
`is_error`, the hook's reason as its text), so the script reads as the run
the test expects.

Usage: python3 tests/data/guard/gen/make_scripts.py   (from anywhere)
"""

import importlib.util
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # tests/data/guard
DATA = ROOT.parent  # tests/data
OUT = ROOT / "scripts"


def load_feature_dev():
    spec = importlib.util.spec_from_file_location("feature_dev_scripts", DATA / "feature-dev/gen/make_scripts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fd = load_feature_dev()


class MlFlow(fd.Script):
    """A run of the ml-flow test plugin (tests/data/plugin/ml-flow)."""

    kind = "guard-ml-flow-script"
    cwd = "/home/dev/churn-model"
    command_name = "/ml-flow:ml-flow"
    command_file = DATA / "plugin/ml-flow/commands/ml-flow.md"
    args = "Build a customer churn prediction model"


class FeatureDev(fd.Script):
    kind = "guard-feature-dev-script"


class AgentTranscript(fd.Script):
    """The transcript of one agent of a script, in the 2.1.328 shape (`<session>/subagents/agent-<id>.jsonl`):
    sidechain entries that name the agent and the parent session, the first the launch prompt, then the agent's
    own turns, the last its report. serve gives the agent these turns one by one (its tool calls run in the CLI),
    where an agent without a transcript gets its report only."""

    def __init__(self, parent, call):
        self.kind = f"{parent.kind}-agent"
        self.cwd = parent.cwd
        self.aid = call["result"][1]["agentId"]
        super().__init__(f"{parent.name}:{self.aid}")  # its own ids (messages, calls): unique in the run
        self.parent_sid = parent.sid
        self.prompt_id = parent.prompt_id
        self._user(call["input"]["prompt"])

    def _tail(self):
        return {**super()._tail(), "sessionId": self.parent_sid}

    def _emit(self, obj):
        # The agent's conversation only: queue operations and last-prompt entries are the session's.
        if obj.get("type") in ("user", "assistant"):
            obj["isSidechain"] = True
            obj["agentId"] = self.aid
            super()._emit(obj)


def agent_turns(s, call, *turns):
    """Gives a launch's agent its own turns (each a tuple of `say` blocks; the last, its report, should be the
    launch's report): written to its transcript, which `write_scripts` puts beside the script."""
    a = AgentTranscript(s, call)
    for blocks in turns:
        a.say(*blocks)
    s.agent_files = getattr(s, "agent_files", {})
    s.agent_files[a.aid] = a.text()
    return call


def denied(call, reason):
    """A call that the guard's PreToolUse hook denies: the result the CLI writes for it."""
    text = f"PreToolUse:{call['name']} hook error: {reason}"
    return {**call, "result": (text, f"Error: {text}", True)}


# --- ml-flow -----------------------------------------------------------------

PHASES = ["Problem Analysis", "Data Architecture", "Risk Assessment", "Model Architecture",
          "Infrastructure Design", "Design Approval", "Model Implementation", "Training Implementation",
          "Integration", "Quality Review", "Fixes & Verification", "Summary"]

APPROACH_QUESTION = ("The three designs: a logistic-regression baseline, a sequence model over monthly activity, "
                     "and a gradient-boosted model on aggregated features.\n\nWhich approach do you prefer?")
APPROACH_ANSWER = "Go with the gradient-boosted approach."
APPROVAL_QUESTION = "Do you approve this design? Any changes needed before implementation?"
APPROVAL = "Yes, I approve this design. Proceed with implementation."


def announce(n, agents, extra=""):
    after = f"Next: Phase {n + 1} - {PHASES[n]}" if n < len(PHASES) else "Next: Done!"
    head = f"**Phase {n} of {len(PHASES)}: {PHASES[n - 1]}**\n{after}\nAgents: {agents}"
    return head + (f"\n\n{extra}" if extra else "")


def ml_agent(s, phase, agent, k, background=False):
    """A launch of `ml-flow:<agent>`, its prompt unique in the run (serve picks the report by prompt)."""
    name = PHASES[phase - 1].lower()
    prompt = f"PHASE-{phase} {agent} task {k}: do the {name} work and report key files with line numbers."
    report = f"[{agent}] phase {phase} task {k}: findings in src/churn/model.py:{10 + k} and src/churn/train.py:{40 + k}."
    call = s.agent(f"ml-flow:{agent}", prompt, report, description=f"Phase {phase} {agent} #{k}")
    if background:
        call = launched_in_background(s, call)
    return call


def launched_in_background(s, call):
    """A 2.1 background launch: the result says it was launched; the report comes as a notification."""
    aid = call["result"][1]["agentId"]
    out = f"/tmp/claude-0/-home-dev-churn-model/{s.sid}/tasks/{aid}.output"
    text = (f"Async agent launched successfully.\nagentId: {aid} (internal ID - do not mention to user.)\n"
            "The agent is working in the background. You will be notified automatically when it completes.\n"
            f"output_file: {out}")
    tur = {"isAsync": True, "status": "async_launched", "agentId": aid, "description": call["input"]["description"],
           "prompt": call["input"]["prompt"], "outputFile": out, "canReadOutputFile": True, "canContinueAgent": True}
    s.background = getattr(s, "background", {})
    s.background[aid] = call
    call = {**call, "input": {**call["input"], "run_in_background": True}}
    call["result"] = ([{"type": "text", "text": text}], tur, False)
    return call


def notification(s, call):
    """The `<task-notification>` a background agent's end puts in the conversation (not the user's)."""
    aid = call["result"][1]["agentId"]
    tid = next(line for line in reversed(s.lines) if aid in line and '"tool_result"' in line)
    tid = re.search(r'"tool_use_id":"([^"]+)"', tid).group(1)
    report = s.background.pop(aid)["result"][1]["content"][0]["text"]
    text = (f"<task-notification>\n<task-id>{aid}</task-id>\n<tool-use-id>{tid}</tool-use-id>\n"
            f"<output-file>{call['result'][1]['outputFile']}</output-file>\n<status>completed</status>\n"
            f"<summary>Agent \"{call['input']['description']}\" finished</summary>\n<result>{report}</result>\n"
            "</task-notification>")
    s._queue("enqueue", text)
    s._queue("dequeue")
    s._user(text, {"permissionMode": "bypassPermissions",
                   "origin": {"kind": "task-notification", "producer": "session-task"},
                   "promptSource": "system", "turnOrigin": "task_notification"})


def launches(s, phase, agents, k0=1):
    """The calls of one parallel launch: agents is a list of agent names."""
    return [ml_agent(s, phase, a, k0 + i) for i, a in enumerate(agents)]


def todo(s):
    todos = [{"content": f"Phase {n}: {name}", "status": "pending", "activeForm": f"Working on phase {n}"}
             for n, name in enumerate(PHASES, 1)]
    error = ("<tool_use_error>Error: No such tool available: TodoWrite. TodoWrite is disabled for this session, "
             "in subagents as well as here.</tool_use_error>")
    return {"name": "TodoWrite", "input": {"todos": todos}, "result": (error, f"Error: {error}", True)}


def ml_phase_1(s, explore_first=False):
    s.say(announce(1, "ml-explorer"), todo(s))
    if explore_first:
        grep = s.bash('grep -rn "churn" src/', "Find where churn is computed", "")
        s.say("Let me look at the code myself first.", denied(grep, GREP_DENIED))
        s.say("Delegating the search to an explorer instead.", *launches(s, 1, ["ml-explorer"]))
    else:
        s.say(*launches(s, 1, ["ml-explorer"]))


def ml_phases_2_to_4(s, phase_2=None):
    s.say(announce(2, "ml-explorer"), *(phase_2 or launches(s, 2, ["ml-explorer"] * 3)))
    s.say(announce(3, "data-scientist + ml-explorer"), *launches(s, 3, ["ml-explorer", "data-scientist"]))
    s.say(announce(4, "ml-architect"), *launches(s, 4, ["ml-architect"] * 3))
    s.say(APPROACH_QUESTION)


def ml_phase_5(s, background=False):
    s.say(announce(5, "data-scientist + ml-architect"), *launches(s, 5, ["ml-architect"] * 2))
    step_2 = [ml_agent(s, 5, "data-scientist", k, background=background and k == 2) for k in (1, 2)]
    s.say("Step 1 is back; step 2.", *step_2)
    return step_2[1]


def ml_phases_7_to_12(s):
    s.say(announce(7, "ml-engineer"), *launches(s, 7, ["ml-engineer"] * 3))
    s.say(announce(8, "mlops-engineer"), *launches(s, 8, ["mlops-engineer"] * 3))
    s.say(announce(9, "ml-engineer + mlops-engineer"), *launches(s, 9, ["ml-engineer", "mlops-engineer"]))
    s.say(announce(10, "ml-reviewer"), *launches(s, 10, ["ml-reviewer"] * 3))
    s.say(announce(11, "ml-engineer + mlops-engineer"), *launches(s, 11, ["ml-engineer", "mlops-engineer"]))
    s.say(announce(12, "None", "Built: a gradient-boosted churn model with its training pipeline, integration, "
                               "review and fixes. ML development finished!"))


# What the guard answers (its reason, as the model reads it). The test checks
# the real run against its own expectations; these only make the scripts read
# as the runs they stand for.
ML_APPROVAL_HELP = ('Phase 6: "Ask user: \\"Do you approve this design? Any changes needed before implementation?\\" '
                    'DO NOT PROCEED until user explicitly approves."; Phase 7: "DO NOT START WITHOUT USER APPROVAL '
                    'FROM PHASE 6"')
GREP_DENIED = ('orchlint guard: forbidden-tool: the orchestrator ran `grep -rn "churn" src/` (explore) through Bash; '
               "exploring and editing code is the agents' work (phase 1). Rule 1: \"NEVER explore code yourself - "
               'delegate to agents"; Rule 5: "You MUST NOT: Use Glob/Grep/Read to explore code (agents do this); Write '
               'or edit code files (engineer agents do this)"')
ENGINEERS_DENIED = ("orchlint guard: approval-gate: an ml-engineer agent was launched without asking the user for the "
                    f"design approval in phase 6. {ML_APPROVAL_HELP}")
NOTIFIED_DENIED = ("orchlint guard: approval-gate: an ml-engineer agent was launched before the user gave the design "
                   f"approval asked for in phase 6. {ML_APPROVAL_HELP}")
SED = "sed -i 's/window_days=30/window_days=60/' src/churn/features.py"
SED_DENIED = ("orchlint guard: agent-tool: the ml-explorer agent ran `" + SED + "` (edit) through Bash; explorers, "
              "architects, data scientists and reviewers are read-only: they report, and the engineer agents change "
              'code. Agent Reference: "ml-explorer (read-only)", "ml-architect (read-only)", "data-scientist '
              '(read-only)", "ml-reviewer (read-only)"; only "ml-engineer (WRITE-ENABLED)" and "mlops-engineer '
              '(WRITE-ENABLED)" have Edit/Write')
WRONG_TYPE_DENIED = ("orchlint guard: agent-type: phase 2 launched an `ml-flow:data-scientist` agent; phase 2 launches "
                     'ml-explorer. Rule 3: "Agent Counts Per Phase" names the agent types of each phase; launch only '
                     "those")


def ml_grep_first():
    """Phase 1: the orchestrator greps the code itself; denied, it delegates."""
    s = MlFlow("grep-first").command()
    ml_phase_1(s, explore_first=True)
    ml_phases_2_to_4(s)
    return s


def ml_wrong_type_in_parallel():
    """Phase 2: three launches in one message, the second of a type phase 2 does not launch."""
    s = MlFlow("wrong-type-in-parallel").command()
    ml_phase_1(s)
    phase_2 = [ml_agent(s, 2, "ml-explorer", 1), ml_agent(s, 2, "data-scientist", 2), ml_agent(s, 2, "ml-explorer", 3)]
    phase_2[1] = denied(phase_2[1], WRONG_TYPE_DENIED)
    ml_phases_2_to_4(s, phase_2=phase_2)
    return s


def explorer_edits(s, call):
    """The launch's ml-explorer edits a file with `sed -i` through Bash; denied, its next turn is its report."""
    report = call["result"][1]["content"][0]["text"]
    sed = s.bash(SED, "Fix the churn window in place", "")
    return agent_turns(s, call, ("The churn window looks wrong; fixing it while I am here.", denied(sed, SED_DENIED)),
                       (report,))


def ml_explorer_edits():
    """Phase 2: the second of three ml-explorers edits a file with `sed -i` through Bash; denied, it reports
    instead; the orchestrator goes on to the phase-4 question."""
    s = MlFlow("explorer-edits").command()
    ml_phase_1(s)
    phase_2 = launches(s, 2, ["ml-explorer"] * 3)
    explorer_edits(s, phase_2[1])
    ml_phases_2_to_4(s, phase_2=phase_2)
    return s


def ml_explorer_edits_beside_a_data_scientist():
    """Phase 3: the ml-explorer launched with a data-scientist edits a file; denied, it reports instead. On
    2.0.x, whose hook input does not name the agent, the guard tells the two running agents apart by the
    transcript that holds the call."""
    s = MlFlow("explorer-edits-beside-a-data-scientist").command()
    ml_phase_1(s)
    s.say(announce(2, "ml-explorer"), *launches(s, 2, ["ml-explorer"] * 3))
    phase_3 = launches(s, 3, ["ml-explorer", "data-scientist"])
    explorer_edits(s, phase_3[0])
    s.say(announce(3, "data-scientist + ml-explorer"), *phase_3)
    s.say(announce(4, "ml-architect"), *launches(s, 4, ["ml-architect"] * 3))
    s.say(APPROACH_QUESTION)
    return s


def ml_phases_1_to_5(s, background=False):
    """Phases 1 to 5, the user's choice of approach between 4 and 5; the last launch of phase 5."""
    ml_phase_1(s)
    ml_phases_2_to_4(s)
    s.user(APPROACH_ANSWER)
    return ml_phase_5(s, background=background)


def ml_engineers_before_approval():
    """Phase 6: the engineers are launched without asking; denied, the model asks, the user approves."""
    s = MlFlow("engineers-before-approval").command()
    ml_phases_1_to_5(s)
    early = [denied(c, ENGINEERS_DENIED) for c in launches(s, 6, ["ml-engineer"] * 3)]
    s.say(announce(6, "None", "The design is complete: gradient boosting on aggregated monthly features, a "
                              "nightly training job, a batch scoring service. Starting the implementation now."),
          *early)
    s.say(f"I should not start without your go-ahead. {APPROVAL_QUESTION}")
    s.user(APPROVAL)
    ml_phases_7_to_12(s)
    return s


def ml_notification_before_approval():
    """A background agent's notification arrives after the approval question: not an approval."""
    s = MlFlow("notification-before-approval").command()
    late = ml_phases_1_to_5(s, background=True)
    s.say(announce(6, "None", f"The design: gradient boosting on aggregated monthly features. {APPROVAL_QUESTION}"))
    notification(s, late)
    # Taken for the approval: the engineers, still in phase 6 (no heading the hook could not undo).
    early = [denied(c, NOTIFIED_DENIED) for c in launches(s, 6, ["ml-engineer"] * 3)]
    s.say("The last report is in; starting the implementation.", *early)
    s.say(f"The last data-scientist report is in; the design stands. {APPROVAL_QUESTION}")
    s.user(APPROVAL)
    ml_phases_7_to_12(s)
    return s


STOPPED_EARLY = ('orchlint guard: incomplete-run: the run stopped in phase 2 (Data Architecture) before reaching '
                 'phase 12. Phase 12: "When complete: ML development finished!"')


def stop_feedback(s, reason):
    """What a Stop hook that has the model go on puts in the conversation (2.1.328's shape)."""
    s._user(f"Stop hook feedback:\n{reason}", {"isMeta": True})


def ml_stops_early():
    """Phase 2 done, the model stops without a question; told to go on, it does."""
    s = MlFlow("stops-early").command()
    ml_phase_1(s)
    s.say(announce(2, "ml-explorer"), *launches(s, 2, ["ml-explorer"] * 3))
    s.say("The explorers are back. That is enough for today.")
    stop_feedback(s, STOPPED_EARLY)
    s.say("Going on with the workflow.\n\n" + announce(3, "data-scientist + ml-explorer"),
          *launches(s, 3, ["ml-explorer", "data-scientist"]))
    s.say(announce(4, "ml-architect"), *launches(s, 4, ["ml-architect"] * 3))
    s.say(APPROACH_QUESTION)
    return s


# --- feature-dev -------------------------------------------------------------

WRITE_DENIED = ("orchlint guard: approval-gate: the orchestrator called Write without asking the user for the "
                "approval of an approach in phase 4. Phase 3: wait for the answers before designing; phase 5: do not "
                "start without the user approval; phase 6: ask the user what to fix")


def fd_write_before_approval():
    """Phase 4: the orchestrator writes code before the user picked an approach; denied, it asks."""
    s = FeatureDev("write-before-approval").command()
    fd.discovery(s)
    fd.exploration(s)
    fd.questions(s)
    comparison = fd.design(s, ask=False)
    # design() ends with the comparison and no question; the write comes with it.
    s.say(comparison, denied(s.write("notes/filters.py", fd.FILTERS_V1), WRITE_DENIED))
    s.say("I should not write code before you pick an approach. Which approach would you like me to take?")
    s.user(fd.APPROVAL)
    fd.implementation(s, "Thanks for the go-ahead; implementing Approach 2.")
    fd.review(s)
    fd.summary(s)
    return s


SCRIPTS = {
    "ml-flow-grep-first": ml_grep_first,
    "ml-flow-wrong-type-in-parallel": ml_wrong_type_in_parallel,
    "ml-flow-explorer-edits": ml_explorer_edits,
    "ml-flow-explorer-edits-beside-a-data-scientist": ml_explorer_edits_beside_a_data_scientist,
    "ml-flow-engineers-before-approval": ml_engineers_before_approval,
    "ml-flow-notification-before-approval": ml_notification_before_approval,
    "ml-flow-stops-early": ml_stops_early,
    "feature-dev-write-before-approval": fd_write_before_approval,
}


def main():
    fd.write_scripts(SCRIPTS, OUT, lambda name, s: f"{name}: {len(s.lines)} entries, {s.messages} assistant messages, "
                                                   f"{s.launches} launches")


if __name__ == "__main__":
    main()
