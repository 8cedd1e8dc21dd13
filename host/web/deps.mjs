// Entry of the vendored bundle (vendor/deps.js): only what viewer.js uses, tree-shaken.
// Rebuild with `npm ci && npm run vendor` after changing package.json; the bundle is committed
// so the page needs no network and no build step at run time.
export {
  AmbientLight, BufferAttribute, BufferGeometry, Color, DirectionalLight, GridHelper, Group, LineBasicMaterial,
  LineSegments, Mesh, MeshStandardMaterial, PerspectiveCamera, Scene, SphereGeometry, WebGLRenderer, InstancedMesh,
  Matrix4, Vector3,
} from "three";
export { default as mqtt } from "mqtt";
