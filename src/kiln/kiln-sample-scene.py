# kiln-sample-scene.py: the sample scene of the Render page, built by Blender itself.
#
#   blender --background --factory-startup -noaudio --python-expr SCRIPT -- OUT.blend
#
# A small Cycles animation that renders in seconds: Suzanne turning on a checkered floor under
# a sun, 12 frames at 640x360 and 16 samples, no denoising (Kiln renders without it).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import math
import sys

import bpy

out = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.name = "Kiln Sample"
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = 16
scene.cycles.use_denoising = False
scene.render.resolution_x = 640
scene.render.resolution_y = 360
scene.render.resolution_percentage = 100
scene.render.fps = 12
scene.frame_start = 1
scene.frame_end = 12
scene.render.image_settings.file_format = "PNG"

world = bpy.data.worlds.new("Sky")
world.use_nodes = True
world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.35, 0.45, 0.6, 1)
scene.world = world


def material(name, color):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = color
    return mat


floor = material("Floor", (0.8, 0.8, 0.8, 1))
checker = floor.node_tree.nodes.new("ShaderNodeTexChecker")
checker.inputs["Scale"].default_value = 8
checker.inputs["Color2"].default_value = (0.25, 0.25, 0.25, 1)
floor.node_tree.links.new(checker.outputs["Color"],
                          floor.node_tree.nodes["Principled BSDF"].inputs["Base Color"])
bpy.ops.mesh.primitive_plane_add(size=12)
bpy.context.object.data.materials.append(floor)

bpy.ops.mesh.primitive_monkey_add(location=(0, 0, 1))
monkey = bpy.context.object
bpy.ops.object.shade_smooth()
monkey.modifiers.new("Smooth", "SUBSURF").render_levels = 2
monkey.data.materials.append(material("Clay", (0.8, 0.3, 0.1, 1)))
monkey.rotation_euler = (0, 0, 0)
monkey.keyframe_insert("rotation_euler", frame=1)
monkey.rotation_euler = (0, 0, math.radians(330))
monkey.keyframe_insert("rotation_euler", frame=12)

bpy.ops.object.light_add(type="SUN", rotation=(math.radians(40), 0, math.radians(30)))
bpy.context.object.data.energy = 3
bpy.ops.object.camera_add(location=(0, -6, 2.5), rotation=(math.radians(76), 0, 0))
scene.camera = bpy.context.object

bpy.context.preferences.filepaths.save_version = 0
bpy.ops.wm.save_as_mainfile(filepath=out, compress=True)
print("KILN-SAMPLE-DONE", flush=True)
