/** The CLI prints the same curl examples and snippet tag as the admin API's install guide. */
export { curlExamples, snippetTag } from '../admin/index.js';
