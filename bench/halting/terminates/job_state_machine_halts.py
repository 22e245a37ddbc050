# call: run_machine("idle")
# why: the transitions idle -> start -> run -> done -> halt form a path that reaches "halt".
def run_machine(state):
    while state != "halt":
        if state == "idle":
            state = "start"
        elif state == "start":
            state = "run"
        elif state == "run":
            state = "done"
        elif state == "pause":
            state = "idle"
        else:
            state = "halt"
    return state
