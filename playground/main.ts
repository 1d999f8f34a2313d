import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { createObserver } from 'vue-observed'
import App from './App.vue'
import { memoryBackend } from './backend'

const backend = memoryBackend()
createApp(App, { backend })
  .use(createPinia())
  .use(createObserver({ driver: backend.driver }))
  .mount('#app')
