/** Counterfactuals: edited locals the model must see, and resampling. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Locals } from '../../src/trace/frame';
import { buildPromptProgram } from '../../src/trace/prompt';
import { FakeBackend } from '../helpers/fake-backend';
import { EchoOptions, EchoOracle } from '../helpers/scripted-models';
import { assertConsistent, programs, realAt, replayWorld, startedPredictor, tokenizer } from './world';

const PROGRAM = buildPromptProgram('def f(n):  # << START_OF_TRACE\n    n = n\n    return n\n', { args: '1' });

function echoBackend(style: EchoOptions['style']): FakeBackend {
  return new FakeBackend(
    tokenizer,
    new EchoOracle(tokenizer, {
      first: (sampling) => ({ event: 'call', locals: [['n', String(sampling.seed ?? 0)]], source: 'def f(n):  # << START_OF_TRACE' }),
      style,
      source: '    n = n',
      frames: 20,
    }),
  );
}

function localsOf(step: { frame?: unknown } | undefined): Locals | undefined {
  const frame = step?.frame as { locals?: Locals } | undefined;
  return frame?.locals;
}

describe('editLocals', () => {
  test('the next frame sees the edited values: the model reads them from the sequence', async () => {
    const backend = echoBackend('full');
    const { predictor, sequence } = await startedPredictor(backend, PROGRAM);
    await predictor.stepFrame();
    await predictor.stepFrame();
    assert.deepEqual(localsOf(predictor.current), [['n', '0']]);
    const calls = backend.modelCalls;
    const edited = await predictor.editLocals([['n', '100'], ['m', "'new'"]]);
    assert.equal(backend.modelCalls, calls, 'an edit makes no model call');
    assert.equal(edited.index, 1);
    assert.equal(edited.origin, 'edited');
    assert.equal(edited.forced, true);
    assert.deepEqual(localsOf(edited), [['n', '100'], ['m', "'new'"]]);
    assert.equal(edited.text, '<|line_sep|>{"n": "100", "m": "\'new\'"}<|action_sep|>    n = n\n<|frame_sep|>');
    assertConsistent(predictor, sequence);
    await predictor.stepFrame();
    assert.deepEqual(localsOf(predictor.current), [['n', '100'], ['m', "'new'"]]);
  });

  test('values are written in full even where they did not change, never as ".."', async () => {
    const { predictor } = await startedPredictor(echoBackend('full'), PROGRAM);
    await predictor.stepFrame();
    await predictor.stepFrame();
    const edited = await predictor.editLocals([['n', '0']]);
    assert.equal(edited.text.includes('".."'), false);
    assert.ok(edited.text.includes('{"n": "0"}'));
  });

  test('".." after an edit resolves against the edited value', async () => {
    const { predictor } = await startedPredictor(echoBackend('unchanged'), PROGRAM);
    await predictor.stepFrame();
    await predictor.stepFrame();
    await predictor.editLocals([['n', '[1, 2]']]);
    await predictor.stepFrame();
    assert.ok(predictor.current?.text.includes('{"n": ".."}'));
    assert.deepEqual(localsOf(predictor.current), [['n', '[1, 2]']]);
  });

  test('an edit after stepping back is not lost (the demo\'s stale-cache bug)', async () => {
    const { predictor, sequence } = await startedPredictor(echoBackend('unchanged'), PROGRAM);
    for (let i = 0; i < 4; i++) await predictor.stepFrame();
    await predictor.editLocals([['n', '5']]);
    await predictor.stepFrame();
    await predictor.stepFrame();
    assert.deepEqual(localsOf(predictor.current), [['n', '5']]);
    await predictor.goTo(2);
    await predictor.editLocals([['n', '6']]);
    await predictor.stepFrame();
    await predictor.stepFrame();
    assert.deepEqual(localsOf(predictor.current), [['n', '6']]);
    await predictor.stepBack();
    await predictor.stepBack();
    assert.deepEqual(localsOf(predictor.current), [['n', '6']], 'the edited frame itself');
    await predictor.editLocals([['n', '7']]);
    await predictor.stepFrame();
    assert.deepEqual(localsOf(predictor.current), [['n', '7']]);
    assertConsistent(predictor, sequence);
  });

  test('over a replay of reality: an edited loop variable flows into the next frames through ".."', async () => {
    const world = await replayWorld(await programs.sumList());
    await world.predictor.run();
    await world.predictor.goTo(4); // for x in xs, with xs and total
    await world.predictor.editLocals([['xs', '[10, 20, 30]'], ['total', '0']]);
    await world.predictor.stepInto();
    const next = world.predictor.current;
    assert.ok(next?.text.includes('{"xs": "..", "total": "..", "x": "1"}'));
    assert.deepEqual(localsOf(next), [['xs', '[10, 20, 30]'], ['total', '0'], ['x', '1']]);
    assertConsistent(world.predictor, world.sequence);
  });

  test('the entry call frame can be edited too (other arguments), and stays the base of a resample', async () => {
    const world = await replayWorld(await programs.sumListMarked(), { forceEntry: true });
    await world.predictor.editLocals([['xs', '[4]']]);
    assert.equal(world.predictor.steps.length, 1);
    await world.predictor.stepInto();
    assert.deepEqual(localsOf(world.predictor.current), [['xs', '[4]']]);
    await world.predictor.resample();
    assert.deepEqual(localsOf(world.predictor.steps[0]), [['xs', '[4]']]);
    assert.deepEqual(localsOf(world.predictor.current), [['xs', '[4]']]);
  });

  test('only call and line frames can be edited, with unique names and full values', async () => {
    const world = await replayWorld(await programs.sumList());
    await assert.rejects(world.predictor.editLocals([]), { name: 'PredictorError', code: 'not-editable' });
    await world.predictor.run();
    assert.equal(world.predictor.current?.event, 'return');
    await assert.rejects(world.predictor.editLocals([['x', '1']]), { name: 'PredictorError', code: 'not-editable' });
    await world.predictor.goTo(5);
    await assert.rejects(world.predictor.editLocals([['x', '1'], ['x', '2']]), { name: 'PredictorError', code: 'bad-locals' });
    await assert.rejects(world.predictor.editLocals([['x', '..']]), { name: 'PredictorError', code: 'bad-locals' });
    assert.deepEqual(world.predictor.current?.frame, realAt(world.recorded, [5])[0], 'a refused edit changes nothing');
    assertConsistent(world.predictor, world.sequence);
  });

  test('editing the last frame of an ended trace drops the end', async () => {
    const { predictor, sequence } = await startedPredictor(echoBackend('full'), PROGRAM);
    await predictor.run();
    assert.equal(predictor.ended, true);
    await predictor.editLocals([['n', '1']]);
    assert.equal(predictor.ended, false);
    assertConsistent(predictor, sequence);
  });
});

describe('resample', () => {
  test('a seed is part of the world: the same seed gives the same invented arguments, another seed others', async () => {
    const backend = echoBackend('full');
    const { predictor } = await startedPredictor(backend, PROGRAM, { sampling: { temperature: 0.6, topP: 0.95, seed: 1 } });
    await predictor.stepFrame();
    await predictor.stepFrame();
    const first = localsOf(predictor.steps[0]);
    const calls = backend.modelCalls;
    const other = await predictor.resample(2);
    assert.equal(backend.modelCalls, calls + 1);
    assert.equal(other.added.length, 1);
    assert.equal(predictor.steps.length, 1);
    assert.notDeepEqual(localsOf(predictor.steps[0]), first);
    await predictor.resample(1);
    assert.deepEqual(localsOf(predictor.steps[0]), first);
    assert.equal(predictor.sampling.seed, 1);
    await predictor.resample();
    assert.equal(predictor.sampling.seed, 2, 'without a seed, the seed moves on');
  });

  test('greedy decoding predicts the same frame again', async () => {
    const world = await replayWorld(await programs.walk());
    await world.predictor.run();
    const result = await world.predictor.resample();
    assert.deepEqual(result.added.map((step) => step.frame), realAt(world.recorded, [0]));
    assert.equal(world.predictor.steps.length, 1);
    assert.equal(world.predictor.ended, false);
    assertConsistent(world.predictor, world.sequence);
  });
});
