/**
 * What a real model and a real user do to a session: malformed frames, frames over budget, a full
 * context, cancellation, overlapping commands. The session must go on, its sequence always consistent.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCancelled } from '../../src/model/backend';
import { buildPromptTokens, FrameProgress, PredictedStep, Predictor } from '../../src/predictor';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { FakeBackend } from '../helpers/fake-backend';
import { ReplayOracle } from '../helpers/replay-model';
import { FlakyOracle } from '../helpers/scripted-models';
import { assertConsistent, plainAll, predictedFrames, programs, Recorded, replayWorld, startedPredictor, tokenizer } from './world';

const GARBAGE = [...tokenizer.encodeText('oops, not a frame'), tokenizer.special(T.frameSep)];

/** A replay that writes garbage once at each of the given step positions. */
function flakyBackend(recorded: Recorded, at: readonly number[]): FakeBackend {
  let oracle = new ReplayOracle(tokenizer, recorded.frames) as ReplayOracle | FlakyOracle;
  for (const position of at) oracle = new FlakyOracle(tokenizer, oracle, position, 1, GARBAGE);
  return new FakeBackend(tokenizer, oracle);
}

describe('malformed model output', () => {
  test('garbage becomes a step with issues and no frame; the session goes on', async () => {
    const recorded = await programs.sumList();
    const backend = flakyBackend(recorded, [4]);
    const { predictor, sequence } = await startedPredictor(backend, recorded.program);
    const result = await predictor.run();
    assert.equal(result.halted, 'malformed');
    const bad = predictor.current;
    assert.equal(bad?.index, 4);
    assert.equal(bad?.frame, undefined);
    assert.equal(bad?.event, undefined);
    assert.equal(bad?.issues[0].kind, 'unexpected-text');
    assert.equal(bad?.depth, 2, 'depth is carried through a step without an event');
    assert.deepEqual(predictor.issues.map((issue) => issue.stepIndex), [4]);
    assertConsistent(predictor, sequence);
    // The model did not move reality on: the frames after the garbage are the real ones from frame 4 on.
    assert.equal((await predictor.run()).halted, 'ended');
    const frames = predictedFrames(predictor);
    assert.deepEqual([...frames.slice(0, 4), ...frames.slice(5)], plainAll(recorded.frames));
    assert.deepEqual(predictor.steps.slice(5).map((step) => step.depth), recorded.frames.slice(4).map((frame) => frame.origin.depth));
  });

  test('stepping back over a malformed step and predicting again recovers the real trace', async () => {
    const recorded = await programs.sumList();
    const { predictor, sequence } = await startedPredictor(flakyBackend(recorded, [6]), recorded.program);
    assert.equal((await predictor.run()).halted, 'malformed');
    assert.equal(await predictor.stepBack(), true);
    assert.equal((await predictor.run()).halted, 'ended');
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    assert.deepEqual(predictor.issues, []);
    assertConsistent(predictor, sequence);
  });

  test('two malformed steps in a row both say why they have no frame', async () => {
    const recorded = await programs.sumList();
    const { predictor } = await startedPredictor(flakyBackend(recorded, [4, 5]), recorded.program);
    await predictor.run();
    await predictor.run();
    assert.deepEqual(predictor.steps.slice(4, 6).map((step) => step.frame), [undefined, undefined]);
    assert.deepEqual(predictor.issues.map((issue) => [issue.stepIndex, issue.kind]), [[4, 'unexpected-text'], [5, 'unexpected-text']]);
    await predictor.run();
    assert.equal(predictor.ended, true);
  });

  test('garbage after a forced event token: the step keeps its event and its depth', async () => {
    const recorded = await programs.sumList();
    const { predictor, sequence } = await startedPredictor(flakyBackend(recorded, [3]), recorded.program);
    for (let i = 0; i < 3; i++) await predictor.stepInto();
    assert.equal(predictor.current?.event, 'call');
    const result = await predictor.stepInto();
    assert.equal(result.halted, 'malformed');
    assert.equal(result.added[0].event, 'line');
    assert.equal(result.added[0].depth, 2);
    assert.equal(result.added[0].issues[0].kind, 'missing-separator');
    assertConsistent(predictor, sequence);
    await predictor.stepBack();
    await predictor.stepInto();
    assert.deepEqual(predictor.current?.frame, plainAll(recorded.frames)[3]);
  });
});

describe('token budget and context', () => {
  test('a frame over budget is a truncated step; the next command continues the same frame', async () => {
    const recorded = await programs.sumList();
    const { predictor, sequence, backend } = await replayWorld(recorded, { maxTokensPerFrame: 3 });
    const first = await predictor.stepInto();
    assert.equal(first.halted, 'truncated');
    assert.equal(first.added.length, 1);
    const cut = first.added[0];
    assert.equal(cut.truncated, 'length');
    assert.equal(cut.frame, undefined);
    assert.equal(cut.event, 'call');
    assert.equal(cut.forced, true);
    assert.deepEqual(cut.issues.map((issue) => issue.kind), ['truncated']);
    assertConsistent(predictor, sequence);
    const second = await predictor.stepInto();
    assert.equal(second.added[0].index, 0, 'still step 0');
    assert.equal(predictor.steps.length, 1);
    assert.ok(second.added[0].text.startsWith(cut.text));

    let guard = 0;
    while (!predictor.ended && guard++ < 1000) await predictor.stepInto();
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    assert.ok(backend.calls.generate > 3 * recorded.frames.length);
    assert.ok(backend.calls.generatedTokens <= 3 * backend.calls.generate);
    assertConsistent(predictor, sequence);
  });

  test('a larger budget set mid-frame finishes it in one call', async () => {
    const recorded = await programs.sumList();
    const { predictor, backend } = await replayWorld(recorded, { maxTokensPerFrame: 2 });
    await predictor.stepInto();
    predictor.configure({ maxTokensPerFrame: 2048 });
    const calls = backend.calls.generate;
    const result = await predictor.stepInto();
    assert.equal(result.halted, undefined);
    assert.equal(backend.calls.generate, calls + 1);
    assert.deepEqual(predictor.current?.frame, plainAll(recorded.frames)[0]);
  });

  test('a full context ends prediction with a truncated step; later commands halt without a model call', async () => {
    const recorded = await programs.sumList();
    const promptLength = buildPromptTokens(tokenizer, recorded.program).prompt.length;
    const { predictor, sequence, backend } = await replayWorld(recorded, { contextLength: promptLength + 60 });
    const result = await predictor.run();
    assert.equal(result.halted, 'context');
    assert.equal(predictor.current?.truncated, 'context');
    assert.equal(sequence.length, promptLength + 60);
    const calls = backend.modelCalls;
    const again = await predictor.stepInto();
    assert.equal(again.halted, 'context');
    assert.deepEqual(again.added, []);
    assert.equal(backend.modelCalls, calls);
    assertConsistent(predictor, sequence);
    assert.equal(await predictor.stepBack(), true);
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames.slice(0, predictor.steps.length)));
  });

  test('a step out that never reaches its return stops at the frame limit', async () => {
    const recorded = await programs.walk();
    const { predictor } = await replayWorld(recorded, { maxFramesPerCommand: 4 });
    for (let i = 0; i <= 5; i++) await predictor.stepFrame(); // inside walk's loop: 15 frames to its caller
    const result = await predictor.stepOut();
    assert.equal(result.halted, 'frame-limit');
    assert.deepEqual(result.added.map((step) => step.frame), plainAll([6, 7, 18, 19].map((i) => recorded.frames[i])));
    assert.equal((await predictor.run()).halted, 'frame-limit', 'run() has the same limit');
  });
});

describe('cancellation', () => {
  /** A predictor whose progress callback aborts once step `at` has written `after` characters. */
  async function abortingWorld(recorded: Recorded, at: number, after: number) {
    const controller = new AbortController();
    const world = await replayWorld(recorded, {
      onProgress: (progress) => {
        if (progress.stepIndex === at && progress.text.length >= after) controller.abort();
      },
    });
    return { ...world, signal: controller.signal };
  }

  test('mid-frame: rejects with ModelError "cancelled", keeps the completed frames, drops the partial one', async () => {
    const recorded = await programs.walk();
    const { predictor, sequence, signal } = await abortingWorld(recorded, 5, 10);
    await assert.rejects(predictor.run({ signal }), (error: unknown) => isCancelled(error));
    assert.equal(predictor.steps.length, 5);
    assertConsistent(predictor, sequence);
    await predictor.run();
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    assertConsistent(predictor, sequence);
  });

  test('during a step over\'s forced return: the call frame stays, the forced token goes', async () => {
    const recorded = await programs.sumList();
    const { predictor, sequence, signal } = await abortingWorld(recorded, 3, 16);
    await predictor.stepFrame();
    await predictor.stepFrame();
    await assert.rejects(predictor.stepOver({ signal }), (error: unknown) => isCancelled(error));
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames.slice(0, 3)));
    assertConsistent(predictor, sequence);
    const result = await predictor.stepInto();
    assert.deepEqual(result.added.map((step) => step.frame), plainAll(recorded.frames.slice(3, 4)));
  });

  test('an aborted signal rejects before any model call', async () => {
    const { predictor, backend } = await replayWorld(await programs.sumList());
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(predictor.stepInto({ signal: controller.signal }), (error: unknown) => isCancelled(error));
    assert.equal(backend.modelCalls, 0);
    assert.equal(predictor.steps.length, 0);
  });
});

describe('end tokens', () => {
  test('any of the model\'s end tokens ends the trace (<|eot_id|> here); stepping back removes it', async () => {
    const recorded = await programs.sumList();
    const endOfText = tokenizer.special(T.endOfText);
    const eot = tokenizer.idOf('<|eot_id|>');
    assert.ok(eot !== undefined, 'the test tokenizer has <|eot_id|>');
    const replay = new ReplayOracle(tokenizer, recorded.frames);
    const backend = new FakeBackend(
      tokenizer,
      { next: (context) => replay.next(context).map((id) => (id === endOfText ? eot : id)) },
      { eosTokenIds: [endOfText, eot] },
    );
    const { predictor, sequence } = await startedPredictor(backend, recorded.program);
    assert.equal((await predictor.run()).halted, 'ended');
    assert.equal(predictor.ended, true);
    assert.deepEqual(predictedFrames(predictor), plainAll(recorded.frames));
    assert.deepEqual(predictor.issues, []);
    assert.equal(sequence.tokens()[sequence.length - 1], eot);
    assert.equal(sequence.length, predictor.steps[predictor.steps.length - 1].tokenEnd + 1);
    await predictor.stepBack();
    assert.equal(predictor.ended, false);
    assertConsistent(predictor, sequence);
  });
});

describe('the predictor as an object', () => {
  test('progress reports every piece as it comes; the last text of each step is the step\'s text', async () => {
    const recorded = await programs.sumList();
    const reports: FrameProgress[] = [];
    const completed: PredictedStep[] = [];
    const { predictor } = await replayWorld(recorded, { onProgress: (progress) => reports.push(progress), onStep: (step) => completed.push(step) });
    await predictor.run();
    for (const step of predictor.steps) {
      const own = reports.filter((report) => report.stepIndex === step.index);
      assert.ok(own.length > 1, `step ${step.index} streamed`);
      assert.equal(own[own.length - 1].text, step.text);
      assert.equal(own.map((report) => report.pieces.map((piece) => (piece.kind === 'text' ? piece.text : piece.token)).join('')).join(''), step.text);
    }
    assert.ok(reports[0].text.startsWith('<|call_sep|>'), 'the forced event token is reported too');
    assert.deepEqual(completed, predictor.steps);
  });

  test('one command at a time', async () => {
    const { predictor } = await replayWorld(await programs.sumList());
    const running = predictor.run();
    await assert.rejects(predictor.stepInto(), { name: 'PredictorError', code: 'busy' });
    await assert.rejects(predictor.stepBack(), { name: 'PredictorError', code: 'busy' });
    await running;
    assert.equal(predictor.ended, true);
  });

  test('commands need start(); start() again replaces the whole world', async () => {
    const recorded = await programs.sumList();
    const other = await programs.walk();
    const backend = new FakeBackend(tokenizer, new ReplayOracle(tokenizer, recorded.frames));
    const sequence = await backend.createSequence();
    const predictor = new Predictor(backend, sequence);
    await assert.rejects(predictor.stepInto(), { name: 'PredictorError', code: 'not-started' });
    await predictor.start(recorded.program);
    await predictor.run();
    const wrapped = (await programs.catcher()).program;
    assert.equal(wrapped.shape, 'wrapper');
    await assert.rejects(predictor.start(wrapped, { entryLocals: [] }), { name: 'PredictorError', code: 'bad-entry' });
    assert.equal(predictor.ended, true, 'a refused start changes nothing');
    await predictor.start(other.program);
    assert.deepEqual(predictor.steps, []);
    assert.equal(predictor.ended, false);
    assert.deepEqual(sequence.tokens(), buildPromptTokens(tokenizer, other.program).prompt);
    predictor.dispose();
    await assert.rejects(predictor.stepInto(), { name: 'PredictorError', code: 'disposed' });
  });
});
