/**
 * Stepping through a predicted world with the demo's semantics, over a fake model that replays a real
 * trace recorded with our tracer: every command must land on the frames the real trace says.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Predictor, predictToEnd } from '../../src/predictor';
import { assertConsistent, plainAll, predictedFrames, programs, realAt, Recorded, replayWorld, World } from './world';

/** Free steps until the predictor stands on real frame `index` (steps and real frames then share indexes). */
async function advanceTo(world: World, index: number): Promise<void> {
  while (world.predictor.currentIndex < index) {
    const result = await world.predictor.stepFrame();
    assert.equal(result.halted, undefined, `no halt before frame ${index}`);
  }
  assert.deepEqual(world.predictor.current?.frame, realAt(world.recorded, [index])[0]);
}

function addedFrames(result: { added: ReadonlyArray<{ frame?: unknown }> }): unknown[] {
  return result.added.map((step) => step.frame);
}

const ALL = ['sumList', 'sumListMarked', 'catcher', 'uncaught', 'usesAll', 'walk'] as const;

describe('free steps reproduce the real trace', () => {
  for (const name of ALL) {
    test(`${name}: run() predicts every real frame, at the real depth, then the end`, async () => {
      const recorded: Recorded = await programs[name]();
      const { predictor, sequence, backend } = await replayWorld(recorded);
      const result = await predictor.run();
      assert.equal(result.halted, 'ended');
      assert.equal(predictor.ended, true);
      assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
      assert.deepEqual(predictor.steps.map((step) => step.depth), recorded.frames.map((frame) => frame.origin.depth));
      assert.deepEqual(predictor.issues, []);
      // The first frame is steered (<|call_sep|> forced), every other one is the model's own.
      assert.deepEqual(predictor.steps.map((step) => step.origin), recorded.frames.map((_, i) => (i === 0 ? 'steered' : 'model')));
      assertConsistent(predictor, sequence);
      assert.equal(backend.calls.generate, recorded.frames.length + 1, 'one generation per frame, one for the end');
    });
  }

  test('stepInto all the way gives the same frames (a forced <|line_sep|> after each call enters the callee)', async () => {
    const recorded = await programs.walk();
    const { predictor, sequence } = await replayWorld(recorded);
    let result;
    do result = await predictor.stepInto();
    while (!result.halted);
    assert.equal(result.halted, 'ended');
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    const steered = predictor.steps.filter((step) => step.origin === 'steered').map((step) => step.index);
    const afterCalls = recorded.frames.flatMap((_, i) => (i > 0 && recorded.frames[i - 1].event === 'call' ? [i] : []));
    assert.deepEqual(steered, [0, ...afterCalls]);
    assertConsistent(predictor, sequence);
  });

  test('with the entry frame teacher-forced, prediction starts after it and never invents arguments', async () => {
    const recorded = await programs.sumListMarked();
    const { predictor, sequence, backend } = await replayWorld(recorded, { forceEntry: true });
    assert.equal(predictor.steps.length, 1);
    assert.equal(predictor.current?.origin, 'teacher-forced');
    assert.equal(predictor.current?.forced, true);
    assert.equal(predictor.depth, 1);
    assert.equal(backend.modelCalls, 0);
    await predictor.run();
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    assertConsistent(predictor, sequence);
  });
});

describe('step into, over and out land where the real trace says', () => {
  test('stepOver a call in main: the callee\'s return frame in between, then main\'s next frame', async () => {
    const world = await replayWorld(await programs.sumList());
    await advanceTo(world, 1); // main: return sum_list([1, 2, 3])
    const result = await world.predictor.stepOver();
    assert.equal(result.halted, undefined);
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [2, 12, 13]));
    assert.deepEqual(result.added.map((step) => [step.origin, step.depth]), [['model', 2], ['steered', 2], ['model', 1]]);
    assert.equal(world.predictor.depth, 1);
    assert.equal(world.predictor.ended, false);
    assertConsistent(world.predictor, world.sequence);
    // Nothing after main's return but the end.
    const last = await world.predictor.stepOver();
    assert.deepEqual(last.added, []);
    assert.equal(last.halted, 'ended');
    assert.equal(world.predictor.ended, true);
    assert.deepEqual(world.predictor.current?.frame, realAt(world.recorded, [13])[0]);
  });

  test('stepInto at a call line enters the call, then forces <|line_sep|> into the body', async () => {
    const world = await replayWorld(await programs.sumList());
    await advanceTo(world, 1);
    const call = await world.predictor.stepInto();
    assert.deepEqual(addedFrames(call), realAt(world.recorded, [2]));
    assert.equal(call.added[0].forced, false);
    const body = await world.predictor.stepInto();
    assert.deepEqual(addedFrames(body), realAt(world.recorded, [3]));
    assert.equal(body.added[0].origin, 'steered');
    assert.equal(body.added[0].forced, true);
    assert.equal(world.predictor.depth, 2);
  });

  test('stepOver a line that is no call is one frame; from a call frame it enters the body', async () => {
    const world = await replayWorld(await programs.walk());
    await advanceTo(world, 3);
    assert.deepEqual(addedFrames(await world.predictor.stepOver()), realAt(world.recorded, [4]));
    await world.predictor.goTo(2); // call walk
    assert.deepEqual(addedFrames(await world.predictor.stepOver()), realAt(world.recorded, [3]));
  });

  test('stepOver a recursive call: the outermost callee\'s return, not the innermost', async () => {
    const world = await replayWorld(await programs.walk());
    await advanceTo(world, 6); // total += fact(item)
    const result = await world.predictor.stepOver();
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [7, 18, 19]));
    assert.deepEqual(result.added.map((step) => step.depth), [3, 3, 2]);
  });

  test('stepOut runs to the scope\'s return, forcing nested calls to return at once, then one more frame', async () => {
    const world = await replayWorld(await programs.walk());
    await advanceTo(world, 5); // inside walk's loop
    const result = await world.predictor.stepOut();
    assert.equal(result.halted, undefined);
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [6, 7, 18, 19, 20, 21, 22, 23, 24, 25, 32, 33, 34, 35, 36]));
    assert.equal(world.predictor.depth, 1);
    assertConsistent(world.predictor, world.sequence);
  });

  test('stepOut counts depth: the forced return of a nested call does not end it (the demo stops there)', async () => {
    const world = await replayWorld(await programs.walk());
    await advanceTo(world, 9); // fact(3): return n * fact(n - 1)
    const result = await world.predictor.stepOut();
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [10, 17, 18, 19]));
    assert.deepEqual(result.added.map((step) => step.depth), [4, 4, 3, 2]);
  });

  test('stepOut from a call frame forces its return at once; from a return frame it leaves the caller', async () => {
    const world = await replayWorld(await programs.walk());
    await advanceTo(world, 7); // call fact(3)
    assert.deepEqual(addedFrames(await world.predictor.stepOut()), realAt(world.recorded, [18, 19]));
    await world.predictor.goTo(0);
    await advanceTo(world, 16); // return 1 from fact(1), depth 5: the caller is fact(2)
    assert.deepEqual(addedFrames(await world.predictor.stepOut()), realAt(world.recorded, [17, 18]));
  });

  test('stepOut at the entry function runs to its return and ends the trace there', async () => {
    const world = await replayWorld(await programs.walk());
    await advanceTo(world, 1);
    const result = await world.predictor.stepOut();
    assert.equal(result.halted, 'ended');
    assert.equal(world.predictor.ended, true);
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [2, 35, 36]));
    assert.deepEqual(world.predictor.current?.frame, realAt(world.recorded, [36])[0]);
    assertConsistent(world.predictor, world.sequence);
  });

  test('exceptions: stepOver a call that raises lands on the caller\'s exception frame', async () => {
    const world = await replayWorld(await programs.uncaught());
    await advanceTo(world, 4); // return boom(0)
    const result = await world.predictor.stepOver();
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [5, 9, 10]));
    assert.equal(world.recorded.frames[9].origin.unwinding, true);
    assert.deepEqual(result.added.map((step) => step.depth), [3, 3, 2]);
  });

  test('exceptions: stepOut of the raising function stops after its unwinding return', async () => {
    const world = await replayWorld(await programs.uncaught());
    await advanceTo(world, 7); // raise ValueError("zero")
    const result = await world.predictor.stepOut();
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [8, 9, 10]));
    assert.deepEqual(result.added.map((step) => [step.event, step.depth]), [['exception', 3], ['return', 3], ['exception', 2]]);
  });

  test('generators: each resumption is a call, each yield a return', async () => {
    const world = await replayWorld(await programs.usesAll());
    await advanceTo(world, 5); // got = list(gen(2))
    const result = await world.predictor.stepOver();
    assert.deepEqual(addedFrames(result), realAt(world.recorded, [6, 9, 10]));
  });
});

describe('after the end', () => {
  test('every stepping command returns at once, with no model call, and the current frame stays', async () => {
    const world = await replayWorld(await programs.sumList());
    await world.predictor.run();
    const calls = world.backend.modelCalls;
    const current = world.predictor.current;
    for (const command of ['stepInto', 'stepOver', 'stepOut', 'stepFrame', 'run'] as const) {
      const result = await world.predictor[command]();
      assert.deepEqual(result.added, [], command);
      assert.equal(result.halted, 'ended', command);
      assert.equal(result.current, current, command);
    }
    assert.equal(world.backend.modelCalls, calls);
  });
});

describe('step back and go to', () => {
  async function finished(): Promise<World & { frames: ReturnType<Predictor['steps']['slice']> }> {
    const world = await replayWorld(await programs.walk());
    await world.predictor.run();
    return { ...world, frames: world.predictor.steps.slice() };
  }

  test('stepBack drops the last frame (and the end) without a model call; predicting again gives it back', async () => {
    const world = await finished();
    const calls = world.backend.modelCalls;
    assert.equal(await world.predictor.stepBack(), true);
    assert.equal(world.backend.modelCalls, calls);
    assert.equal(world.predictor.ended, false);
    assert.equal(world.predictor.steps.length, world.frames.length - 1);
    assertConsistent(world.predictor, world.sequence);
    await world.predictor.stepFrame();
    assert.deepEqual(world.predictor.steps, world.frames);
    assert.equal(world.predictor.ended, false, 'the end is predicted by the next step, not restored');
    assert.equal((await world.predictor.stepFrame()).halted, 'ended');
    assertConsistent(world.predictor, world.sequence);
  });

  test('goTo any earlier step truncates without a model call; the same commands predict the same world', async () => {
    const world = await finished();
    for (const index of [30, 12, 4, 0]) {
      const calls = world.backend.modelCalls;
      const step = await world.predictor.goTo(index);
      assert.equal(step, world.frames[index]);
      assert.equal(world.backend.modelCalls, calls, `goTo(${index}) made no model call`);
      assert.equal(world.predictor.currentIndex, index);
      assert.equal(world.sequence.length, world.frames[index].tokenEnd);
      assertConsistent(world.predictor, world.sequence);
      await world.predictor.run();
      assert.deepEqual(world.predictor.steps, world.frames, `from step ${index}`);
    }
  });

  test('".." resolves against the kept frames after a truncation (no stale state)', async () => {
    const world = await replayWorld(await programs.sumList());
    await world.predictor.run();
    await world.predictor.goTo(7); // mid-loop in sum_list: the next frames write ".." for xs and total
    await world.predictor.stepInto();
    await world.predictor.stepInto();
    assert.deepEqual(predictedFrames(world.predictor), plainAll(world.recorded.frames.slice(0, 10)));
    assert.ok(world.predictor.steps[9].text.includes('".."'), 'the model wrote ".." and the parser resolved it');
  });

  test('the first step is never dropped; goTo an unknown step is refused', async () => {
    const world = await replayWorld(await programs.sumList());
    assert.equal(await world.predictor.stepBack(), false);
    await world.predictor.stepFrame();
    assert.equal(await world.predictor.stepBack(), false);
    assert.equal(world.predictor.steps.length, 1);
    await assert.rejects(world.predictor.goTo(1), { name: 'PredictorError', code: 'bad-step' });
    await assert.rejects(world.predictor.goTo(-1), { name: 'PredictorError', code: 'bad-step' });
  });

  test('the teacher-forced entry frame survives step back and resample', async () => {
    const world = await replayWorld(await programs.sumListMarked(), { forceEntry: true });
    await world.predictor.stepInto();
    assert.equal(await world.predictor.stepBack(), true);
    assert.equal(await world.predictor.stepBack(), false);
    await world.predictor.run();
    const calls = world.backend.modelCalls;
    const result = await world.predictor.resample();
    assert.equal(world.backend.modelCalls, calls + 1, 'one frame predicted again');
    assert.deepEqual(predictedFrames(world.predictor), realAt(world.recorded, [0, 1]));
    assert.equal(result.added.length, 1);
    assert.equal(world.predictor.steps[0].origin, 'teacher-forced');
    assertConsistent(world.predictor, world.sequence);
  });
});

describe('predictToEnd', () => {
  test('reports each step as it lands and stops at the end of the trace', async () => {
    const recorded = await programs.walk();
    const { predictor } = await replayWorld(recorded);
    const seen: number[] = [];
    const end = await predictToEnd(predictor, { maxSteps: 1000, onStep: (steps) => seen.push(steps) });
    assert.equal(end, 'ended');
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    // One report per frame, counting up, and one more for the end-of-trace generation.
    assert.deepEqual(seen, [...recorded.frames.map((_, i) => i + 1), recorded.frames.length]);
  });

  test('stops at maxSteps without ending the trace', async () => {
    const { predictor } = await replayWorld(await programs.walk());
    assert.equal(await predictToEnd(predictor, { maxSteps: 3 }), 'max-steps');
    assert.equal(predictor.steps.length, 3);
    assert.equal(predictor.ended, false);
  });
});
