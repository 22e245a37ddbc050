# call: run_machine("idle")
# why: the transitions idle -> start -> run -> pause -> idle form a cycle that never reaches "halt".
def run_machine(state):
    while state != "halt":
        if state == "idle":
            state = "start"
        elif state == "start":
            state = "run"
        elif state == "run":
            state = "pause"
        elif state == "pause":
            state = "idle"
        else:
            state = "halt"
    return state
