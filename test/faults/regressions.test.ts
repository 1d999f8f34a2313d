/**
 * Schedules the fault suites found failing, shrunk to their minimum (MINIMIZE=1), kept as regression tests. Each
 * names the bug it caught and where it was fixed.
 */
import { describe, expect, it } from 'vitest'
import { runSchedule } from './runner'
import type { Schedule } from './schedule'
import type { Target, TargetFactory } from './target'
import { kuzzleTarget } from './target-kuzzle'
import { memoryTarget } from './target-memory'
import { sanityTarget } from './target-sanity'

interface Regression {
  readonly name: string
  readonly factory: TargetFactory
  readonly schedule: Schedule
}

const regressions: Regression[] = [
  {
    name: 'a hit pushed out of a full live window by an entry, ordered by content the backend had moved on from (core: ObserverSearchResult membership, the window keeps its size, seed 710678)',
    factory: memoryTarget,
    schedule: {"seed":710678,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[{"id":"d4","body":{"n":0,"g":"a"}},{"id":"d5","body":{"n":3,"g":"c","nested":{"x":2}}}],"steps":[{"t":"get","slot":1,"id":"d5"},{"t":"search","slot":2,"q":0,"live":"query","size":2},{"t":"write","by":1,"w":{"op":"update","id":"d4","patch":{"n":8}}},{"t":"write","by":1,"w":{"op":"replace","id":"d5","body":{"n":9,"g":"b","nested":{"x":3}}}},{"t":"write","by":1,"w":{"op":"createOrReplace","id":"d0","body":{"n":0,"g":"c","tag":"zz","nested":{"x":0}}},"silent":true},{"t":"wait","ms":7},{"t":"fault","f":"disconnect"},{"t":"fault","f":"missEvents"},{"t":"write","by":1,"w":{"op":"delete","id":"d5"}},{"t":"fault","f":"failReads","n":3},{"t":"write","by":0,"w":{"op":"create","id":"d5","body":{"n":4,"g":"c","nested":{"x":1}}}},{"t":"write","by":1,"w":{"op":"update","id":"d1","patch":{"n":9}},"silent":true}]},
  },
  {
    name: 'missEvents() right after a watch opens must not swallow its ready (memory driver: MemoryWatch.missEvents, seed 33)',
    factory: memoryTarget,
    schedule: {"seed":33,"target":"memory","ids":["d0","d1","d2"],"initial":[],"steps":[{"t":"get","slot":2,"id":"d1"},{"t":"fault","f":"missEvents"}]},
  },
  {
    name: 'a query hit whose sort value grows past the first unfetched match leaves the window (core: hitChanged, seed 181)',
    factory: memoryTarget,
    schedule: {"seed":181,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6","d7"],"initial":[{"id":"d4","body":{"n":2,"g":"b","nested":{"x":5}}},{"id":"d5","body":{"n":0,"g":"b","tag":"long-tag-value","nested":{"x":1}}},{"id":"d7","body":{"n":4,"g":"c","tag":"long-tag-value"}}],"steps":[{"t":"search","slot":5,"q":0,"live":"query","size":2},{"t":"write","by":1,"w":{"op":"update","id":"d4","patch":{"n":6}}},{"t":"wait","ms":4},{"t":"write","by":1,"w":{"op":"replace","id":"d7","body":{"n":6,"g":"a","nested":{"x":2}}}}]},
  },
  {
    name: 'a change held for a revision gap keeps its query membership when a read fills the gap (core: DocEntry.beginSync, seed 20)',
    factory: memoryTarget,
    schedule: {"seed":20,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[{"id":"d4","body":{"n":5,"g":"c"}}],"steps":[{"t":"search","slot":0,"q":2,"live":"query","size":3},{"t":"wait","ms":15},{"t":"write","by":1,"w":{"op":"create","id":"d4","body":{"n":1,"g":"c","tag":"x"}},"silent":true}]},
  },
  {
    name: 'a silent replace seen first through another search read (core: DocEntry, seed 68)',
    factory: memoryTarget,
    schedule: {"seed":68,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[{"id":"d0","body":{"n":2,"g":"c","tag":"é"}}],"steps":[{"t":"search","slot":1,"q":4,"live":"query","size":5},{"t":"wait","ms":13},{"t":"write","by":1,"w":{"op":"replace","id":"d0","body":{"n":6,"g":"c"}},"silent":true},{"t":"search","slot":4,"q":2,"live":"query","size":3}]},
  },
  {
    name: 'a search page is kept for a document whose own read is in flight and that was missing (core: DocEntry.offer, seed 74)',
    factory: memoryTarget,
    schedule: {"seed":74,"target":"memory","ids":["d0","d1","d2","d3","d4"],"initial":[],"steps":[{"t":"get","slot":1,"id":"d2"},{"t":"wait","ms":14},{"t":"get","slot":5,"id":"d3"},{"t":"fault","f":"disconnect"},{"t":"wait","ms":13},{"t":"write","by":0,"w":{"op":"create","id":"d3","body":{"n":7,"g":"a","tag":"x"}}},{"t":"search","slot":2,"q":0,"live":"query","size":20}]},
  },
  {
    name: 'a reset before a query watch is ready defers the resync to its ready (core: SharedQueryWatch reset, seed 107)',
    factory: memoryTarget,
    schedule: {"seed":107,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[],"steps":[{"t":"fault","f":"disconnect"},{"t":"search","slot":2,"q":0,"live":"query","size":5},{"t":"fault","f":"missEvents"},{"t":"wait","ms":6},{"t":"write","by":0,"w":{"op":"createOrReplace","id":"d4","body":{"n":4,"g":"a","nested":{"x":4}}}}]},
  },
  {
    name: 'the first read of a document a search already showed is a change, so the search re-sorts (core: applySnapshot, seed 181)',
    factory: memoryTarget,
    schedule: {"seed":181,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6","d7"],"initial":[{"id":"d4","body":{"n":2,"g":"b","nested":{"x":5}}},{"id":"d7","body":{"n":4,"g":"c","tag":"long-tag-value"}}],"steps":[{"t":"fault","f":"disconnect"},{"t":"mget","slot":2,"ids":["d0","d5","d6"]},{"t":"search","slot":5,"q":0,"live":"query","size":2},{"t":"fault","f":"reconnect"},{"t":"write","by":1,"w":{"op":"update","id":"d4","patch":{"n":6}}},{"t":"get","slot":4,"id":"d7"},{"t":"wait","ms":4},{"t":"write","by":1,"w":{"op":"replace","id":"d7","body":{"n":6,"g":"a","nested":{"x":2}}}}]},
  },
  {
    name: 'news for one query watch is never given to another watch of the same document (core: DocEntry.hold, seed 99)',
    factory: memoryTarget,
    schedule: {"seed":99,"target":"memory","ids":["d0","d1","d2","d3","d4"],"initial":[{"id":"d3","body":{"n":5,"g":"a","tag":"é"}}],"steps":[{"t":"search","slot":0,"q":2,"live":"query","size":20},{"t":"search","slot":2,"q":1,"live":"query","size":2},{"t":"wait","ms":10},{"t":"fault","f":"disconnect"},{"t":"write","by":1,"w":{"op":"update","id":"d3","patch":{"g":"a"}}},{"t":"fault","f":"reconnect"},{"t":"write","by":1,"w":{"op":"update","id":"d3","patch":{"n":1}}}]},
  },
  {
    name: 'news that a document left a query, older than a read, still reaches its search (core: DocEntry.route, seed 253)',
    factory: memoryTarget,
    schedule: {"seed":253,"target":"memory","ids":["d0","d1","d2"],"initial":[{"id":"d1","body":{"n":8,"g":"a","tag":"é"}}],"steps":[{"t":"search","slot":1,"q":2,"live":"query","size":20},{"t":"wait","ms":5},{"t":"search","slot":3,"q":4,"live":"query","size":20},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"n":4,"g":"b"}}},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"n":3}}}]},
  },
  {
    name: 'a document leaving a query while observed by id (core: DocEntry, seed 137)',
    factory: memoryTarget,
    schedule: {"seed":137,"target":"memory","ids":["d0","d1","d2"],"initial":[{"id":"d1","body":{"n":4,"g":"a","tag":"é"}}],"steps":[{"t":"get","slot":0,"id":"d1"},{"t":"search","slot":1,"q":3,"live":"query","size":3},{"t":"get","slot":3,"id":"d0"},{"t":"wait","ms":15},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"g":"c"}}},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"nested":{"x":5}}}}]},
  },
  {
    name: 'events older than a read that found the document deleted do not bring it back (core: applySnapshot, seed 597)',
    factory: memoryTarget,
    schedule: {"seed":597,"target":"memory","ids":["d0","d1","d2"],"initial":[{"id":"d1","body":{"n":8,"g":"a","tag":"y","nested":{"x":1}}}],"steps":[{"t":"search","slot":0,"q":2,"live":"query","size":3},{"t":"get","slot":1,"id":"d0"},{"t":"get","slot":1,"id":"d1"},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"n":3}}},{"t":"write","by":0,"w":{"op":"delete","id":"d1"}}]},
  },
  {
    name: 'a document leaving beyond the window is not counted off twice (core: membership + recount, seed 870)',
    factory: memoryTarget,
    schedule: {"seed":870,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6","d7"],"initial":[{"id":"d3","body":{"n":8,"g":"a","tag":"x"}},{"id":"d5","body":{"n":1,"g":"b","tag":"y"}}],"steps":[{"t":"write","by":0,"w":{"op":"create","id":"d2","body":{"n":0,"g":"a","tag":"y","nested":{"x":5}}}},{"t":"write","by":0,"w":{"op":"pair","a":{"op":"delete","id":"d1"},"b":{"op":"update","id":"d6","patch":{"n":8}}}},{"t":"search","slot":1,"q":3,"live":"query","size":2},{"t":"write","by":0,"w":{"op":"update","id":"d5","patch":{"g":"c"}}},{"t":"write","by":1,"w":{"op":"createOrReplace","id":"d0","body":{"n":4,"g":"a","tag":"x","nested":{"x":0}}}},{"t":"wait","ms":10}]},
  },
  {
    name: 'a recount finding more matches than shown refills the window (core: recount, seed 756)',
    factory: memoryTarget,
    schedule: {"seed":756,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[{"id":"d0","body":{"n":9,"g":"a","tag":"é"}},{"id":"d2","body":{"n":5,"g":"a","nested":{"x":4}}},{"id":"d5","body":{"n":3,"g":"a","tag":"long-tag-value","nested":{"x":5}}}],"steps":[{"t":"fault","f":"delay","n":0},{"t":"write","by":0,"w":{"op":"create","id":"d1","body":{"n":2,"g":"a","nested":{"x":4}}}},{"t":"write","by":0,"w":{"op":"replace","id":"d4","body":{"n":2,"g":"b"}}},{"t":"write","by":1,"w":{"op":"update","id":"d0","patch":{"n":5}}},{"t":"fault","f":"reconnect"},{"t":"write","by":1,"w":{"op":"create","id":"d3","body":{"n":6,"g":"a"}}},{"t":"search","slot":2,"q":1,"live":"query","size":3},{"t":"write","by":0,"w":{"op":"replace","id":"d0","body":{"n":6,"g":"a","tag":"zz"}}},{"t":"write","by":1,"w":{"op":"delete","id":"d4"},"silent":true},{"t":"write","by":1,"w":{"op":"replace","id":"d0","body":{"n":0,"g":"b","tag":"zz","nested":{"x":4}}}},{"t":"wait","ms":2},{"t":"write","by":0,"w":{"op":"update","id":"d2","patch":{"n":7}}},{"t":"write","by":1,"w":{"op":"update","id":"d3","patch":{"n":4,"g":"c"}}}]},
  },
  {
    name: 'a late older event does not bring back a hit removed by its delete (core: release, seed 21)',
    factory: memoryTarget,
    schedule: {"seed":21,"target":"memory","ids":["d0","d1","d2"],"initial":[{"id":"d0","body":{"n":4,"g":"a","nested":{"x":0}}}],"steps":[{"t":"search","slot":0,"q":3,"live":"query","size":20},{"t":"search","slot":1,"q":1,"live":"query","size":5},{"t":"write","by":0,"w":{"op":"pair","a":{"op":"update","id":"d0","patch":{"n":5}},"b":{"op":"createOrReplace","id":"d1","body":{"n":5,"g":"b"}}}},{"t":"write","by":1,"w":{"op":"update","id":"d1","patch":{"g":"a"}}},{"t":"write","by":0,"w":{"op":"createOrReplace","id":"d2","body":{"n":2,"g":"c"}}},{"t":"wait","ms":14},{"t":"fault","f":"duplicate","n":0.5},{"t":"write","by":1,"w":{"op":"delete","id":"d1"}},{"t":"fault","f":"delay","n":12},{"t":"wait","ms":6},{"t":"write","by":1,"w":{"op":"replace","id":"d2","body":{"n":1,"g":"a"}}},{"t":"fault","f":"calm"},{"t":"wait","ms":6},{"t":"fault","f":"delay","n":3},{"t":"search","slot":2,"q":2,"live":"hits","size":2},{"t":"write","by":0,"w":{"op":"replace","id":"d0","body":{"n":5,"g":"a","nested":{"x":3}}}},{"t":"write","by":1,"w":{"op":"update","id":"d2","patch":{"nested":{"x":1}}}},{"t":"wait","ms":4},{"t":"write","by":1,"w":{"op":"update","id":"d0","patch":{"n":9}},"silent":true},{"t":"write","by":1,"w":{"op":"replace","id":"d2","body":{"n":1,"g":"a","tag":"y","nested":{"x":5}}}},{"t":"write","by":1,"w":{"op":"update","id":"d0","patch":{"tag":"x"}}},{"t":"fault","f":"reorder","n":0.2},{"t":"write","by":1,"w":{"op":"delete","id":"d0"},"silent":true},{"t":"search","slot":1,"q":3,"live":"query","size":5}]},
  },
  {
    name: 'a hit deleted from a window with more matches is replaced by the next match (core: refill, seed 19)',
    factory: memoryTarget,
    schedule: {"seed":19,"target":"memory","ids":["d0","d1","d2","d3","d4"],"initial":[{"id":"d0","body":{"n":4,"g":"a"}},{"id":"d1","body":{"n":0,"g":"b","tag":"y"}},{"id":"d4","body":{"n":2,"g":"a","nested":{"x":5}}}],"steps":[{"t":"search","slot":1,"q":4,"live":"query","size":3},{"t":"write","by":1,"w":{"op":"create","id":"d2","body":{"n":7,"g":"b"}},"silent":true},{"t":"wait","ms":10},{"t":"write","by":0,"w":{"op":"pair","a":{"op":"createOrReplace","id":"d0","body":{"n":3,"g":"b","tag":"x"}},"b":{"op":"delete","id":"d2"}}}]},
  },
  {
    name: 'the app disconnects and reconnects its SDK right after connecting: watches subscribe again (kuzzle driver: connection watchdog, watch retry; seed 19)',
    factory: kuzzleTarget,
    schedule: {"seed":19,"target":"kuzzle","ids":["d0","d1","d2","d3"],"initial":[{"id":"d3","body":{"n":1,"g":"a"}}],"steps":[{"t":"get","slot":0,"id":"d3"},{"t":"search","slot":1,"q":4,"live":"query","size":3},{"t":"fault","f":"appReconnect"},{"t":"write","by":2,"w":{"op":"update","id":"d3","patch":{"n":8}}}]},
  },
  {
    name: 'an appearance a read contradicts (deleted since) is not counted (core: membership, seed 714)',
    factory: memoryTarget,
    schedule: {"seed":714,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[],"steps":[{"t":"mget","slot":2,"ids":["d0","d1","d2","d3"]},{"t":"write","by":0,"w":{"op":"createOrReplace","id":"d2","body":{"n":8,"g":"a"}}},{"t":"wait","ms":4},{"t":"search","slot":0,"q":1,"live":"query","size":2},{"t":"write","by":0,"w":{"op":"update","id":"d2","patch":{"n":0}}},{"t":"write","by":1,"w":{"op":"delete","id":"d2"},"silent":true}]},
  },
  {
    name: 'news held for a document that its last search releases still reaches the other searches, as a read again (core: DocEntry.dispose, seed 1114)',
    factory: memoryTarget,
    schedule: {"seed":1114,"target":"memory","ids":["d0","d1","d2","d3","d4"],"initial":[],"steps":[{"t":"search","slot":4,"q":3,"live":"query","size":5},{"t":"write","by":1,"w":{"op":"create","id":"d4","body":{"n":1,"g":"b"}}},{"t":"search","slot":2,"q":2,"live":"query","size":2},{"t":"fault","f":"drop","n":0.3},{"t":"wait","ms":12},{"t":"write","by":1,"w":{"op":"replace","id":"d4","body":{"n":3,"g":"c","nested":{"x":5}}}},{"t":"fault","f":"delay","n":12}]},
  },
  {
    name: 'a refresh() before the query watch is first ready is read again once it is (core: watchReady, seed 1191)',
    factory: memoryTarget,
    schedule: {"seed":1191,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[{"id":"d0","body":{"n":0,"g":"a","tag":"zz","nested":{"x":1}}}],"steps":[{"t":"fault","f":"disconnect"},{"t":"search","slot":5,"q":4,"live":"query","size":3},{"t":"refresh","slot":5},{"t":"write","by":1,"w":{"op":"pair","a":{"op":"replace","id":"d0","body":{"n":4,"g":"b"}},"b":{"op":"createOrReplace","id":"d4","body":{"n":6,"g":"b","nested":{"x":4}}}}}]},
  },
  {
    name: 'an older event for a document outside the hits after a newer one is dropped (core: staleOutside, seed 1568)',
    factory: memoryTarget,
    schedule: {"seed":1568,"target":"memory","ids":["d0","d1","d2"],"initial":[{"id":"d0","body":{"n":2,"g":"b","tag":"x"}},{"id":"d2","body":{"n":4,"g":"a","tag":"y"}}],"steps":[{"t":"write","by":0,"w":{"op":"update","id":"d0","patch":{"g":"a"}}},{"t":"fault","f":"reorder","n":0.5},{"t":"search","slot":4,"q":1,"live":"query","size":20},{"t":"write","by":1,"w":{"op":"update","id":"d2","patch":{"g":"b"}}},{"t":"write","by":0,"w":{"op":"delete","id":"d0"}},{"t":"write","by":1,"w":{"op":"create","id":"d0","body":{"n":9,"g":"a","tag":"x"}}},{"t":"write","by":0,"w":{"op":"delete","id":"d0"}}]},
  },
  {
    name: 'news held for a document disposed after a newer page read makes the search read again instead of applying it (core: DocEntry.dispose, seed 1792)',
    factory: memoryTarget,
    schedule: {"seed":1792,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[{"id":"d2","body":{"n":8,"g":"a","tag":"x","nested":{"x":2}}},{"id":"d4","body":{"n":3,"g":"b"}}],"steps":[{"t":"write","by":1,"w":{"op":"replace","id":"d3","body":{"n":3,"g":"a","nested":{"x":1}}},"silent":true},{"t":"search","slot":1,"q":0,"live":"query","size":2},{"t":"wait","ms":7},{"t":"write","by":1,"w":{"op":"createOrReplace","id":"d3","body":{"n":2,"g":"b","tag":"y"}},"silent":true},{"t":"write","by":1,"w":{"op":"update","id":"d3","patch":{"g":"c"}}},{"t":"wait","ms":4},{"t":"fault","f":"failWatches"}]},
  },
  {
    name: 'an id released by one shard and taken back by another is not left reconnecting when the first goes offline (core: CollectionPool offline, seed 900843)',
    factory: memoryTarget,
    schedule: {"seed":900843,"target":"memory","ids":["d0","d1","d2","d3","d4"],"initial":[{"id":"d0","body":{"n":7,"g":"a"}},{"id":"d2","body":{"n":5,"g":"b","nested":{"x":1}}},{"id":"d3","body":{"n":5,"g":"a"}},{"id":"d4","body":{"n":6,"g":"b"}}],"steps":[{"t":"search","slot":5,"q":0,"live":"hits","size":20},{"t":"get","slot":0,"id":"d1"},{"t":"wait","ms":14},{"t":"search","slot":5,"q":1,"live":"hits","size":5},{"t":"mget","slot":0,"ids":["d0","d1","d2","d3"]},{"t":"fault","f":"disconnect"}]},
  },
  {
    name: 'a watch updated, then reconnected, makes live what it follows now, not the ids it was opened with (core: CollectionPool ready, seed 101165)',
    factory: memoryTarget,
    schedule: {"seed":101165,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[],"steps":[{"t":"mget","slot":4,"ids":["d1","d3","d5","d6"]},{"t":"mget","slot":4,"ids":["d0","d3","d4","d5"]},{"t":"wait","ms":12},{"t":"fault","f":"disconnect"},{"t":"wait","ms":12},{"t":"search","slot":4,"q":0,"live":"query","size":5},{"t":"get","slot":1,"id":"d1"},{"t":"fault","f":"drop","n":0.3},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"g":"c"}}},{"t":"fault","f":"reconnect"},{"t":"wait","ms":1},{"t":"search","slot":4,"q":1,"live":"hits","size":2}]},
  },
  {
    name: 'news buffered for a search read still in flight when its listener dropped is not replayed after the resync read (core: watchReady, seed 100662)',
    factory: sanityTarget,
    schedule: {"seed":100662,"target":"sanity","ids":["d0","d1","d2","d3","d4","d5","d6","d7"],"initial":[{"id":"d0","body":{"n":2,"g":"c","tag":"y"}}],"steps":[{"t":"search","slot":0,"q":4,"live":"query","size":20},{"t":"fault","f":"reject","n":1},{"t":"write","by":1,"w":{"op":"update","id":"d0","patch":{"n":3}}},{"t":"wait","ms":5},{"t":"write","by":3,"w":{"op":"replace","id":"d5","body":{"n":7,"g":"a","tag":"é"}}},{"t":"fault","f":"forgetHistory"},{"t":"fault","f":"closeStreams"},{"t":"write","by":2,"w":{"op":"delete","id":"d0"}}]},
  },
  {
    name: 'a late change from a replaced listener resuming its history does not bring back a document read as deleted (core: DocEntry.route, seed 102728)',
    factory: sanityTarget,
    schedule: {"seed":102728,"target":"sanity","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[],"steps":[{"t":"get","slot":2,"id":"d1"},{"t":"write","by":3,"w":{"op":"replace","id":"d1","body":{"n":0,"g":"b","nested":{"x":4}}}},{"t":"settle"},{"t":"fault","f":"cutStreams"},{"t":"stop","slot":2},{"t":"search","slot":1,"q":3,"live":"query","size":20},{"t":"get","slot":5,"id":"d2"},{"t":"write","by":1,"w":{"op":"update","id":"d1","patch":{"n":1,"g":"b"}}},{"t":"mget","slot":3,"ids":["d0","d1","d2","d4"]},{"t":"write","by":3,"w":{"op":"delete","id":"d1"}}]},
  },
  {
    name: 'a page hit released while offered, its new content sorting past the window, still counts (core: read, seed 101449)',
    factory: memoryTarget,
    schedule: {"seed":101449,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[{"id":"d0","body":{"n":0,"g":"b","tag":"x"}},{"id":"d1","body":{"n":6,"g":"b"}},{"id":"d4","body":{"n":0,"g":"a","tag":"y","nested":{"x":4}}},{"id":"d5","body":{"n":9,"g":"b","tag":"x","nested":{"x":4}}}],"steps":[{"t":"search","slot":0,"q":0,"live":"query","size":3},{"t":"wait","ms":9},{"t":"fault","f":"disconnect"},{"t":"write","by":0,"w":{"op":"update","id":"d1","patch":{"n":4}}},{"t":"write","by":1,"w":{"op":"pair","a":{"op":"delete","id":"d4"},"b":{"op":"replace","id":"d5","body":{"n":9,"g":"c"}}}}]},
  },
  {
    name: 'late notifications without a chain do not bring back a document a read found deleted (core: doc-state placeEvent, a change with a clock revision on a missing document is settled by a read; Kuzzle seed 720834)',
    factory: kuzzleTarget,
    schedule: {"seed":720834,"target":"kuzzle","ids":["d0","d1","d2"],"initial":[{"id":"d1","body":{"n":9,"g":"a","tag":"zz","nested":{"x":5}}}],"steps":[{"t":"search","slot":0,"q":1,"live":"query","size":3},{"t":"write","by":3,"w":{"op":"create","id":"d0","body":{"n":9,"g":"b","tag":"é"}}},{"t":"wait","ms":12},{"t":"write","by":0,"w":{"op":"replace","id":"d0","body":{"n":1,"g":"b","nested":{"x":2}}}},{"t":"write","by":1,"w":{"op":"delete","id":"d0"}},{"t":"mget","slot":2,"ids":["d0","d1","d2"]},{"t":"fault","f":"delay","n":20},{"t":"write","by":2,"w":{"op":"update","id":"d0","patch":{"g":"a"}}}]},
  },
  {
    name: "a local write leaving a document that is no row, after a page read that counted it by the server's content, is counted, not subtracted by what it showed (core: settledOutside, memory soak seed 1101413)",
    factory: memoryTarget,
    schedule: {"seed":1101413,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[{"id":"d2","body":{"n":5,"g":"a","nested":{"x":5}}},{"id":"d3","body":{"n":3,"g":"c","nested":{"x":3}}},{"id":"d5","body":{"n":8,"g":"b","nested":{"x":4}}},{"id":"d6","body":{"n":5,"g":"c","tag":"long-tag-value","nested":{"x":0}}}],"steps":[{"t":"search","slot":0,"q":0,"live":"query","size":20},{"t":"get","slot":1,"id":"d5"},{"t":"fault","f":"drop","n":0.1},{"t":"write","by":0,"w":{"op":"update","id":"d4","patch":{"g":"c"}}},{"t":"search","slot":4,"q":0,"live":"query","size":2},{"t":"write","by":1,"w":{"op":"update","id":"d5","patch":{"n":4}}},{"t":"refresh","slot":4},{"t":"local","slot":1,"w":{"op":"update","patch":{"n":4}}},{"t":"fault","f":"failWatches"}]},
  },
  {
    name: 'a document hidden in limbo whose deletion came while it was hidden is counted out (core: search-limbo left, sanity soak seed 1112560)',
    factory: sanityTarget,
    schedule: {"seed":1112560,"target":"sanity","ids":["d0","d1","d2","d3","d4"],"initial":[{"id":"d0","body":{"n":2,"g":"c"}},{"id":"d1","body":{"n":1,"g":"b","tag":"y","nested":{"x":5}}},{"id":"d3","body":{"n":6,"g":"a","tag":"y"}},{"id":"d4","body":{"n":0,"g":"b","tag":"y"}}],"steps":[{"t":"search","slot":2,"q":0,"live":"query","size":2},{"t":"write","by":2,"w":{"op":"createOrReplace","id":"d2","body":{"n":3,"g":"a","nested":{"x":5}}}},{"t":"wait","ms":8},{"t":"write","by":3,"w":{"op":"update","id":"d0","patch":{"n":2}}},{"t":"write","by":2,"w":{"op":"update","id":"d2","patch":{"n":4,"g":"b"}}},{"t":"wait","ms":14},{"t":"write","by":2,"w":{"op":"replace","id":"d0","body":{"n":0,"g":"a","nested":{"x":1}}}},{"t":"write","by":0,"w":{"op":"delete","id":"d0"}}]},
  },
  {
    name: 'a document written silently, then changed, is counted: its news says it matched before, before what no total counted (core: watch-chain, memory soak seed 1121148)',
    factory: memoryTarget,
    schedule: {"seed":1121148,"target":"memory","ids":["d0","d1","d2","d3","d4","d5","d6","d7"],"initial":[{"id":"d0","body":{"n":1,"g":"b","nested":{"x":0}}},{"id":"d5","body":{"n":1,"g":"b","nested":{"x":1}}},{"id":"d6","body":{"n":4,"g":"b","nested":{"x":5}}}],"steps":[{"t":"search","slot":2,"q":0,"live":"query","size":2},{"t":"write","by":0,"w":{"op":"create","id":"d2","body":{"n":4,"g":"c","nested":{"x":3}}}},{"t":"write","by":0,"w":{"op":"createOrReplace","id":"d3","body":{"n":9,"g":"b","tag":"é","nested":{"x":0}}}},{"t":"fault","f":"failWatches"},{"t":"wait","ms":13},{"t":"write","by":1,"w":{"op":"replace","id":"d7","body":{"n":1,"g":"a","tag":"y","nested":{"x":1}}},"silent":true}]},
  },
  {
    name: 'a row deleted silently, then created again, is read: its creation continues nothing the search held (kuzzle driver: toEvent gives a creation previousRev null; core: doc-state placeEvent holds it, then reads; Kuzzle soak seed 1252343)',
    factory: kuzzleTarget,
    schedule: {"seed":1252343,"target":"kuzzle","ids":["d0","d1","d2","d3","d4","d5","d6"],"initial":[{"id":"d0","body":{"n":9,"g":"c","tag":"long-tag-value"}},{"id":"d1","body":{"n":3,"g":"a","tag":"long-tag-value"}},{"id":"d3","body":{"n":8,"g":"b","nested":{"x":4}}}],"steps":[{"t":"write","by":0,"w":{"op":"pair","a":{"op":"create","id":"d4","body":{"n":5,"g":"b","tag":"y","nested":{"x":3}}},"b":{"op":"delete","id":"d5"}}},{"t":"write","by":3,"w":{"op":"update","id":"d1","patch":{"n":9}}},{"t":"write","by":2,"w":{"op":"pair","a":{"op":"createOrReplace","id":"d6","body":{"n":3,"g":"c","nested":{"x":1}}},"b":{"op":"update","id":"d1","patch":{"nested":{"x":1}}}}},{"t":"write","by":1,"w":{"op":"update","id":"d6","patch":{"n":5}}},{"t":"search","slot":0,"q":2,"live":"query","size":2},{"t":"wait","ms":19},{"t":"write","by":1,"w":{"op":"pair","a":{"op":"delete","id":"d5"},"b":{"op":"createOrReplace","id":"d2","body":{"n":8,"g":"b","tag":"x","nested":{"x":2}}}}},{"t":"wait","ms":18},{"t":"write","by":2,"w":{"op":"delete","id":"d1"},"silent":true},{"t":"wait","ms":8},{"t":"wait","ms":10},{"t":"wait","ms":18}]},
  },
]

describe('fault schedules that once failed', () => {
  for (const { name, factory, schedule } of regressions) {
    it(`${factory.name}: ${name}`, async () => {
      // Timing-dependent: each runs a few times.
      for (let i = 0; i < 3; i++) {
        const r = await runSchedule(factory, schedule, { trace: true })
        expect([...r.divergences, ...r.leaks, ...r.errors], r.trace.join('\n')).toEqual([])
      }
    })
  }
})

describe('the fault runner', () => {
  it('retries a closing write the backend rejected once (sanity seed 100338: a POST on a stale kept-alive socket after a restart)', async () => {
    // Without the retry the silent write stays unrevealed and the search diverges: the check can fail.
    let rejected = 0
    const flaky: TargetFactory = {
      ...memoryTarget,
      async create(schedule, rng) {
        const t = await memoryTarget.create(schedule, rng)
        const write = t.write.bind(t)
        return Object.assign(t, {
          write: (...args: Parameters<Target['write']>) => {
            const [, w] = args
            if (w.op === 'createOrReplace' && w.body.tag === 'closing' && rejected++ === 0) return Promise.reject(new Error('socket hang up'))
            return write(...args)
          },
        })
      },
    }
    const schedule: Schedule = {"seed":20,"target":"memory","ids":["d0","d1","d2","d3","d4","d5"],"initial":[{"id":"d4","body":{"n":5,"g":"c"}}],"steps":[{"t":"search","slot":0,"q":2,"live":"query","size":3},{"t":"wait","ms":15},{"t":"write","by":1,"w":{"op":"replace","id":"d4","body":{"n":1,"g":"c","tag":"x"}},"silent":true}]}
    const r = await runSchedule(flaky, schedule, { trace: true })
    expect(rejected).toBeGreaterThanOrEqual(2)
    expect([...r.divergences, ...r.leaks, ...r.errors], r.trace.join('\n')).toEqual([])
  })
})
